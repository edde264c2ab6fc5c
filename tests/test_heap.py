"""The service process's memory settings (`services/common/heap.py`)."""

from __future__ import annotations

import gc

from services.common import heap


def test_settle_freezes_the_start_up_heap_and_release_is_safe() -> None:
    thresholds = gc.get_threshold()
    try:
        heap.settle()
        assert gc.get_freeze_count() > 10_000  # imports alone leave this many objects
        assert gc.get_threshold() == (7000, 10, 100)  # young collections rarer, full ones rarer still
    finally:
        gc.unfreeze()  # the rest of the test session keeps collecting as usual
        gc.set_threshold(*thresholds)
    heap.release()  # a no-op where the C library is not glibc
