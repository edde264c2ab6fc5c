"""序时进度 along a task's milestones instead of a straight line to its last date (issue 18)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session

from proto.notice import Milestone
from services.progress.flags import expected_percent
from services.progress.models import ProgressTask
from services.progress.receipts import acknowledge
from services.progress.reports import record_report
from services.progress.schemas import ReportIn
from tests.progress.conftest import RULES, SUBJECTS, unit, upsert
from tests.progress.test_domain import tick

START, DUE = date(2026, 1, 1), date(2026, 12, 31)


def step(due: date, value: float | None = None, unit_: str | None = "个") -> dict:  # type: ignore[type-arg]
    return {"phrase": "", "due_date": due.isoformat(), "target": "", "value": value, "unit": unit_}


def test_pace_follows_the_figures_of_the_milestones() -> None:
    # 上半年完成150个，年底前完成200个: three quarters by June 30.
    steps = [step(date(2026, 6, 30), 150), step(DUE, 200)]
    assert expected_percent(START, DUE, date(2026, 6, 30), steps) == 75
    assert expected_percent(START, DUE, date(2026, 3, 31), steps) == pytest.approx(37.5, abs=0.5)
    assert expected_percent(START, DUE, date(2026, 9, 30), steps) == pytest.approx(87.5, abs=0.5)
    assert expected_percent(START, DUE, date(2027, 1, 5), steps) == 100


def test_pace_in_equal_steps_without_comparable_figures() -> None:
    # 6月底前开工，年底前主体完工: half by June 30.
    steps = [step(date(2026, 6, 30), None, None), step(DUE, None, None)]
    assert expected_percent(START, DUE, date(2026, 6, 30), steps) == 50
    mixed = [step(date(2026, 6, 30), 3, "个"), step(DUE, 2, "亿元")]
    assert expected_percent(START, DUE, date(2026, 6, 30), mixed) == 50


def test_without_milestones_the_pace_is_the_straight_line() -> None:
    for day in (date(2026, 2, 1), date(2026, 6, 30), date(2026, 11, 11)):
        assert expected_percent(START, DUE, day, []) == expected_percent(START, DUE, day)
    # A single step or a step outside the task's span changes nothing.
    assert expected_percent(START, DUE, date(2026, 6, 30), [step(date(2026, 6, 30), 1)]) == expected_percent(
        START, DUE, date(2026, 6, 30)
    )


def test_the_clock_judges_a_staged_task_by_its_milestones(session: Session) -> None:
    milestones = (
        Milestone(phrase="上半年", due_date=date(2026, 6, 30), target="上半年完成150个", value=150, unit="个"),
        Milestone(phrase="年底前", due_date=DUE, target="年底前完成200个", value=200, unit="个"),
    )
    tid = upsert(session, milestones=milestones)
    acknowledge(
        session=session,
        subjects=SUBJECTS,
        principal=unit("甲局"),
        task_id=tid,
        now=datetime(2026, 1, 21, 10, tzinfo=UTC),
        rules=RULES,
    )
    record_report(
        session=session,
        subjects=SUBJECTS,
        principal=unit("甲局"),
        task_id=tid,
        report=ReportIn.model_validate({"percent": 55, "period": "2026-05"}),
        idempotency_key=None,
        now=datetime(2026, 5, 1, 10, tzinfo=UTC),
        rules=RULES,
    )
    session.expire_all()
    assert session.get(ProgressTask, tid).flag == "blue"  # type: ignore[union-attr]
    tick(session, date(2026, 6, 30))  # 75% expected by the milestones; a straight line would say 49.6%
    session.expire_all()
    found = session.get(ProgressTask, tid)
    assert found is not None and found.milestones[0]["value"] == 150
    assert (found.flag, found.rule, found.expected_percent) == ("yellow", "behind", 75.0)


def test_the_ledger_shows_the_milestones(session: Session) -> None:
    from services.progress.ledger import ledger_rows

    milestones = (
        Milestone(phrase="6月底前", due_date=date(2026, 6, 30), target="6月底前开工"),
        Milestone(phrase="年底前", due_date=DUE, target="年底前主体完工"),
    )
    upsert(session, milestones=milestones)
    _doc, (row,) = ledger_rows(session=session, notice="n1")
    assert row.deadline.endswith("阶段目标：2026-06-30 6月底前开工；2026-12-31 年底前主体完工")


def test_the_day_the_pace_passes_a_share_follows_the_milestones() -> None:
    from services.progress.flags import day_expected_passes

    steps = [step(date(2026, 6, 30), 150), step(DUE, 200)]
    for percent in (10, 40, 74, 80, 99):
        day = day_expected_passes(START, DUE, percent, steps)
        assert day is not None
        later, earlier = day + timedelta(days=1), day - timedelta(days=2)
        assert expected_percent(START, DUE, later, steps) > percent >= expected_percent(START, DUE, earlier, steps)
    assert day_expected_passes(START, DUE, 100, steps) is None
    straight = day_expected_passes(START, DUE, 50)
    assert straight is not None and abs((straight - date(2026, 7, 2)).days) <= 1
