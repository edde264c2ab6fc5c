"""When a delivery may go: quiet hours and holidays in China time, back-off between tries. Pure."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, time, timedelta

from services.common.clock import CHINA
from services.common.workdays import WorkCalendar

URGENT_LEVELS = frozenset({"red", "head"})  # 督办 and above go out at any hour
_RANGE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")


def parse_quiet_hours(text: str) -> tuple[time, time] | None:
    """ "22:00-08:00" → (22:00, 08:00); "" → None; anything else raises ValueError."""
    if text == "":
        return None
    found = _RANGE.match(text)
    if found is None:
        raise ValueError("quiet hours are HH:MM-HH:MM in China time, e.g. 22:00-08:00")
    start = time(int(found[1]), int(found[2]))
    end = time(int(found[3]), int(found[4]))
    if start == end:
        raise ValueError("quiet hours must start and end at different times")
    return start, end


def _quiet_at(moment: time, quiet: tuple[time, time]) -> bool:
    start, end = quiet
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end


def release_at(now: datetime, *, level: str, quiet_hours: str, calendar: WorkCalendar) -> datetime:
    """`now` if a message of `level` may go now; otherwise the start of the next window (UTC).

    With quiet hours set, nothing below 督办 goes out inside them or on a day that is not a China
    working day (weekends, holidays; a 调休 Saturday is a working day); the window opens at the
    end of the quiet hours on the next working day.
    """
    quiet = parse_quiet_hours(quiet_hours)
    if quiet is None or level in URGENT_LEVELS:
        return now
    local = now.astimezone(CHINA)
    if calendar.is_working_day(local.date()) and not _quiet_at(local.time(), quiet):
        return now
    day = local.date()
    if not (calendar.is_working_day(day) and local.time() < quiet[1]):
        day = calendar.next_working_day(day)
    return datetime.combine(day, quiet[1], tzinfo=CHINA).astimezone(UTC)


def backoff_s(attempt: int, *, base_s: float, max_s: float, rng: random.Random | None = None) -> float:
    """Exponential back-off with full jitter: a random delay in [d/2, d], d = base·2^(attempt-1) capped."""
    ceiling = min(max_s, base_s * 2 ** max(0, attempt - 1))
    return ceiling / 2 + (rng or random).random() * ceiling / 2


def after(now: datetime, seconds: float) -> datetime:
    return now + timedelta(seconds=seconds)
