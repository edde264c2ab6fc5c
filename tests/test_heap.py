"""The service process's memory settings (`services/common/heap.py`)."""

from __future__ import annotations

import gc

from services.common import heap


def test_settle_freezes_the_start_up_heap_and_release_is_safe() -> None:
    try:
        heap.settle()
        assert gc.get_freeze_count() > 10_000  # imports alone leave this many objects
    finally:
        gc.unfreeze()  # the rest of the test session keeps collecting as usual
    heap.release()  # a no-op where the C library is not glibc
