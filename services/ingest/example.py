"""The example notice `luoshi up` loads, dated in the current year so the walk-through works any day.

The shipped file (`examples/example-notice.txt`) is written for 2026, the year the tests' clocks
stand in. Loaded on another day it becomes that year's notice (its 文号, title and targets), issued
on 20 January or, earlier in January, today: a notice is never dated in the future.
"""

from __future__ import annotations

from datetime import date
from importlib import resources

EXAMPLE_FILE = "example-notice.txt"
WRITTEN_FOR = 2026
_ISSUED = "2026年1月20日"


def example_text() -> str:
    return resources.files("services.ingest").joinpath("examples", EXAMPLE_FILE).read_text(encoding="utf-8")


def example_notice(today: date) -> bytes:
    """The example as of `today`: its year and issue date moved, nothing else."""
    issued = min(date(today.year, 1, 20), today)
    text = example_text().replace(_ISSUED, f"{issued.year}年{issued.month}月{issued.day}日")
    return text.replace(str(WRITTEN_FOR), str(today.year)).encode("utf-8")
