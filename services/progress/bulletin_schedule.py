"""Scheduled bulletins: which bulletin falls due on a day. Pure.

An entry is one line of `LUOSHI_PROGRESS_BULLETIN_SCHEDULE` (a JSON list):

    每月5日通报上月            on the 5th of each month, the previous month
    每月首个工作日通报上月      on each month's first working day (China's calendar, 调休 counted)
    每旬首个工作日通报上旬      on the first working day of each 旬, the previous 旬
    每旬2日通报上旬            on the 2nd day of each 旬 (the 2nd, 12th, 22nd)
    每季首月10日通报上季        on the 10th of January, April, July, October, the previous quarter
    每月5日通报上月@济兖政发〔2026〕1号,兖政发〔2026〕2号   for these notices only

Without `@…` an entry covers every supervised notice together, in one bulletin.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, timedelta

from services.common.periods import Period
from services.common.workdays import WorkCalendar
from services.progress import bulletin_periods

_KINDS = {"月": "month", "旬": "xun", "季": "quarter"}
_ENTRY = re.compile(r"^每(月|旬|季)(首月)?(?:(\d{1,2})日|(首个工作日))通报上(月|旬|季)$")
_LONGEST = {"month": 28, "xun": 10, "quarter": 28}


@dataclass(frozen=True)
class Entry:
    text: str
    kind: str
    day: int | None  # None: the first working day
    notices: tuple[str, ...]


def parse_entry(text: str) -> Entry:
    """One schedule entry; ValueError naming the accepted forms when it is none of them."""
    rule, _, notices = text.strip().partition("@")
    m = _ENTRY.match(rule.strip())
    if not m or m[1] != m[5] or (m[2] and m[1] != "季"):
        raise ValueError(
            f"schedule entry {text!r} is not like 每月5日通报上月, 每旬首个工作日通报上旬, 每季首月10日通报上季"
        )
    kind = _KINDS[m[1]]
    day = int(m[3]) if m[3] else None
    if day is not None and not 1 <= day <= _LONGEST[kind]:
        raise ValueError(f"schedule entry {text!r}: the day must be 1–{_LONGEST[kind]}")
    refs = tuple(n.strip() for n in notices.split(",") if n.strip())
    return Entry(text=text.strip(), kind=kind, day=day, notices=refs)


def due_day(entry: Entry, current: Period, calendar: WorkCalendar) -> date:
    """The day in `current` (a month, 旬 or quarter) on which the entry's bulletin falls due."""
    if entry.day is not None:
        return current.start + timedelta(days=entry.day - 1)
    day = current.start
    while not calendar.is_working_day(day):
        day += timedelta(days=1)
    return day


def due_on(entry: Entry, today: date, calendar: WorkCalendar) -> Period | None:
    """The period to report on if `today` is the entry's due day, else None."""
    current = bulletin_periods.containing(entry.kind, today)
    if due_day(entry, current, calendar) != today:
        return None
    return bulletin_periods.previous(entry.kind, today)


def scheduled_id(entry: Entry, notice_key: str, period: Period) -> str:
    """The bulletin's id, the same for every tick of its due day: it is made once."""
    digest = hashlib.sha256(f"{entry.text}|{notice_key}|{period.label}".encode()).hexdigest()
    return f"s{digest[:23]}"
