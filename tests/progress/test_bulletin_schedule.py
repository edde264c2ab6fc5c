"""Scheduled bulletins: the entry forms, their due days on China's calendar, and one draft per due day."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError
from sqlmodel import Session, select

from proto.clock import ClockTicked
from services.common.workdays import DEFAULT as CALENDAR
from services.progress.bulletin_events import apply_schedule_tick
from services.progress.bulletin_schedule import due_on, parse_entry
from services.progress.models import Bulletin
from services.progress.settings import ProgressSettings
from tests.progress.conftest import DOC, RULES
from tests.progress.test_bulletin_figures import LAYOUT, beijing, build


@pytest.mark.parametrize(
    ("entry", "day", "period"),
    [
        ("每月5日通报上月", date(2026, 12, 5), "2026-11"),
        ("每月5日通报上月", date(2026, 12, 4), None),
        ("每旬首个工作日通报上旬", date(2026, 11, 11), "2026-11-上旬"),
        ("每旬首个工作日通报上旬", date(2026, 11, 21), None),  # a Saturday
        ("每旬首个工作日通报上旬", date(2026, 11, 23), "2026-11-中旬"),
        ("每季首月10日通报上季", date(2027, 1, 10), "2026-Q4"),
        ("每月首个工作日通报上月", date(2026, 12, 1), "2026-11"),
    ],
)
def test_due_days(entry: str, day: date, period: str | None) -> None:
    found = due_on(parse_entry(entry), day, CALENDAR)
    assert (found.label if found else None) == period


@pytest.mark.parametrize("entry", ["每月5日通报上旬", "每月32日通报上月", "每周一通报上周", "", "每旬11日通报上旬"])
def test_entries_that_are_refused(entry: str) -> None:
    with pytest.raises(ValueError):
        parse_entry(entry)
    with pytest.raises(ValidationError):
        ProgressSettings(bulletin_schedule=[entry])


def test_notices_named_in_an_entry() -> None:
    assert parse_entry(f"每月5日通报上月@{DOC}, n2").notices == (DOC, "n2")


def test_one_draft_per_due_day_however_many_ticks(session: Session) -> None:
    build(session)
    entries = [parse_entry("每月5日通报上月"), parse_entry("每月5日通报上月@无此通知")]
    for event_id in ("tick-1", "tick-2", "tick-2"):
        tick = ClockTicked(event_id=event_id, today=date(2026, 12, 5), occurred_at=beijing(date(2026, 12, 5), 0))
        apply_schedule_tick(session=session, event=tick, rules=RULES, layout=LAYOUT, entries=entries)
    [draft] = session.exec(select(Bulletin)).all()
    assert (draft.state, draft.period_label, draft.notices, draft.schedule_rule) == (
        "draft",
        "2026-11",
        [DOC],
        "每月5日通报上月",
    )
    assert draft.figures["overall"]["total"] == 7
    other_day = ClockTicked(event_id="tick-3", today=date(2026, 12, 6), occurred_at=beijing(date(2026, 12, 6), 0))
    assert apply_schedule_tick(session=session, event=other_day, rules=RULES, layout=LAYOUT, entries=entries) == []
