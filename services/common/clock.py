"""The one clock abstraction: services ask it for time, so tests and demos can move time.

Instants are UTC; days are the government's: a clock has a zone (`Asia/Shanghai` unless the
service's `TIMEZONE` says otherwise), and `today()` and `date_of()` give dates in it. A report
filed at 00:30 Beijing time on the 1st belongs to the new month, though it is still the 31st
(16:30) in UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

DEFAULT_TIMEZONE = "Asia/Shanghai"
CHINA = ZoneInfo(DEFAULT_TIMEZONE)


def local_date(at: datetime, zone: ZoneInfo) -> date:
    """The date in `zone` of an instant; a naive datetime is taken as UTC, as every stored one is."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(zone).date()


class Clock(Protocol):
    zone: ZoneInfo

    def now(self) -> datetime: ...

    def today(self) -> date: ...

    def date_of(self, at: datetime) -> date: ...


class _Zoned:
    zone: ZoneInfo

    def now(self) -> datetime:
        raise NotImplementedError

    def today(self) -> date:
        return local_date(self.now(), self.zone)

    def date_of(self, at: datetime) -> date:
        return local_date(at, self.zone)


class SystemClock(_Zoned):
    def __init__(self, zone: ZoneInfo = CHINA) -> None:
        self.zone = zone

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock(_Zoned):
    """A clock that only moves when told to; a naive time given to it is UTC."""

    def __init__(self, start: datetime, zone: ZoneInfo = CHINA) -> None:
        self._now = _aware(start)
        self.zone = zone

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta

    def set(self, when: datetime) -> None:
        self._now = _aware(when)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
