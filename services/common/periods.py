"""Reporting periods: calendar months, ten-day periods (旬) and ISO weeks. Pure date arithmetic.

Labels: month `2026-03`; 旬 `2026-03-上旬` / `中旬` / `下旬` (days 1–10, 11–20, 21–end);
ISO week `2026-W10`.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

KINDS = ("month", "xun", "week")
XUN_NAMES = ("上旬", "中旬", "下旬")
EXAMPLES = {"month": "2026-03", "xun": "2026-03-上旬", "week": "2026-W10"}

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_XUN = re.compile(r"^(\d{4})-(\d{1,2})-(上旬|中旬|下旬)$")
_WEEK = re.compile(r"^(\d{4})-W(\d{1,2})$")


@dataclass(frozen=True)
class Period:
    kind: str
    label: str
    start: date
    end: date


def _month(year: int, month: int) -> Period:
    last = calendar.monthrange(year, month)[1]
    return Period("month", f"{year:04d}-{month:02d}", date(year, month, 1), date(year, month, last))


def _xun(year: int, month: int, index: int) -> Period:
    last = calendar.monthrange(year, month)[1]
    start = date(year, month, 1 + 10 * index)
    end = date(year, month, last) if index == 2 else start + timedelta(days=9)
    return Period("xun", f"{year:04d}-{month:02d}-{XUN_NAMES[index]}", start, end)


def _week(year: int, week: int) -> Period:
    start = date.fromisocalendar(year, week, 1)
    return Period("week", f"{year:04d}-W{week:02d}", start, start + timedelta(days=6))


def period_containing(kind: str, day: date) -> Period:
    if kind == "month":
        return _month(day.year, day.month)
    if kind == "xun":
        return _xun(day.year, day.month, min((day.day - 1) // 10, 2))
    if kind == "week":
        iso = day.isocalendar()
        return _week(iso.year, iso.week)
    raise ValueError(f"unknown period kind {kind}")


def parse_period(kind: str, label: str) -> Period:
    """The period a label names; ValueError when the label does not fit the kind."""
    label = label.strip()
    try:
        if kind == "month" and (m := _MONTH.match(label)):
            return _month(int(m[1]), int(m[2]))
        if kind == "xun" and (m := _XUN.match(label)):
            return _xun(int(m[1]), int(m[2]), XUN_NAMES.index(m[3]))
        if kind == "week" and (m := _WEEK.match(label)):
            return _week(int(m[1]), int(m[2]))
    except ValueError:
        pass  # a month 13 or a week 54 falls through to the same message
    raise ValueError(f"period {label!r} is not a {kind} like {EXAMPLES.get(kind, '')}")


@lru_cache(maxsize=4096)  # the report writer asks it of every stored latest report it compares with
def start_of(label: str | None) -> date | None:
    """The first day of the period a label names, whatever its kind; None for no label or no kind's.

    Labels of different kinds compare by their first day, so changing a notice's period kind
    keeps the order of what was reported before.
    """
    for kind in KINDS if label else ():
        try:
            return parse_period(kind, label).start  # type: ignore[arg-type]
        except ValueError:
            continue
    return None


def next_period(period: Period) -> Period:
    return period_containing(period.kind, period.end + timedelta(days=1))


@lru_cache(maxsize=4096)  # a clock tick asks the same few questions for thousands of tasks
def missed_periods(kind: str, *, since: date, today: date, grace_days: int, limit: int = 120) -> int:
    """Periods from the one holding `since` on whose report is overdue by `today` (end + grace passed).

    `since` is the first day not covered by a report: the day after the last reported period, or
    the day the task was assigned. Counting stops at `limit`, far beyond any flag threshold.
    """
    count = 0
    period = period_containing(kind, since)
    while count < limit and period.end + timedelta(days=grace_days) < today:
        count += 1
        period = next_period(period)
    return count


def first_period_day(kind: str, start: date | None) -> date | None:
    """The first day of the first whole reporting period from `start`: a unit never misses a part period."""
    if start is None:
        return None
    period = period_containing(kind, start)
    return start if period.start == start else next_period(period).start
