"""China's working days: statutory holidays skipped, make-up working days (调休) counted.

The State Council's arrangement comes from the `chinese-calendar` package; a year it does not
know yet falls back to weekends only (logged once per year) and the office's override file
(`workdaysfile.py`) adds or replaces days, winning over both. Each year is turned once into a
table of its working days, so every call is a few index operations.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import cache

import chinese_calendar

log = logging.getLogger(__name__)


@cache
def covered_years() -> range:
    """The years whose arrangement the installed `chinese-calendar` knows."""
    years = {d.year for d in chinese_calendar.holidays}
    return range(min(years), max(years) + 1)


def is_covered(year: int) -> bool:
    return year in covered_years()


@dataclass(frozen=True, slots=True)
class _Year:
    first: int  # ordinal of 1 January
    before: tuple[int, ...]  # before[i]: working days among the year's first i days
    ordinals: tuple[int, ...]  # the working days, in order


def _package_open(day: date) -> bool:
    return chinese_calendar.is_workday(day)


def _weekday_open(day: date) -> bool:
    return day.weekday() < 5


class WorkCalendar:
    """Working days of the package's arrangement, with the office's `holidays` and `workdays` winning."""

    def __init__(self, holidays: Iterable[date] = (), workdays: Iterable[date] = (), source: str = "") -> None:
        self.holidays = frozenset(holidays)
        self.workdays = frozenset(workdays)
        clash = self.holidays & self.workdays
        if clash:
            raise ValueError(f"dates both holidays and workdays: {', '.join(map(str, sorted(clash)))}")
        self.source = source
        self._years: dict[int, _Year] = {}

    def _year(self, year: int) -> _Year:
        table = self._years.get(year)
        if table is None:
            table = self._years[year] = self._build(year)
        return table

    def _build(self, year: int) -> _Year:
        first = date(year, 1, 1).toordinal()
        last = date(year, 12, 31).toordinal()
        base = _package_open if is_covered(year) else _weekday_open
        if not is_covered(year):
            self._warn_uncovered(year)
        before = [0]
        ordinals = []
        for ordinal in range(first, last + 1):
            day = date.fromordinal(ordinal)
            if day in self.workdays or (day not in self.holidays and base(day)):
                ordinals.append(ordinal)
            before.append(len(ordinals))
        return _Year(first, tuple(before), tuple(ordinals))

    def _warn_uncovered(self, year: int) -> None:
        office = sum(1 for d in self.holidays | self.workdays if d.year == year)
        known = covered_years()
        log.warning(
            "working days of %s: chinese-calendar knows %s–%s only; counting weekends as rest days%s",
            year,
            known.start,
            known.stop - 1,
            f" with {office} days from {self.source}" if office else " (no office override for that year)",
        )

    def is_working_day(self, day: date) -> bool:
        table = self._year(day.year)
        i = day.toordinal() - table.first
        return table.before[i + 1] > table.before[i]

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end`; negative when `end` is before `start`."""
        if end < start:
            return -self.working_days_between(end, start)
        a, b = self._year(start.year), self._year(end.year)
        count = b.before[end.toordinal() - b.first + 1] - a.before[start.toordinal() - a.first + 1]
        return count + sum(len(self._year(y).ordinals) for y in range(start.year, end.year))

    def add_working_days(self, day: date, n: int) -> date:
        """The `n`-th working day after `day` (before it when `n` is negative); `day` itself when `n` is 0."""
        if n == 0:
            return day
        year = day.year
        table = self._year(year)
        i = day.toordinal() - table.first
        if n > 0:
            k = table.before[i + 1] + n - 1
            while k >= len(table.ordinals):
                k -= len(table.ordinals)
                year += 1
                table = self._year(year)
        else:
            k = table.before[i] + n
            while k < 0:
                year -= 1
                table = self._year(year)
                k += len(table.ordinals)
        return date.fromordinal(table.ordinals[k])

    def next_working_day(self, day: date) -> date:
        """The first working day after `day`."""
        return self.add_working_days(day, 1)


# The package's arrangement alone, for callers without an office override.
DEFAULT = WorkCalendar()
is_working_day = DEFAULT.is_working_day
working_days_between = DEFAULT.working_days_between
add_working_days = DEFAULT.add_working_days
next_working_day = DEFAULT.next_working_day
