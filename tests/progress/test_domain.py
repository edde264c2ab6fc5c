"""The progress domain on a real SQLite database and a controlled clock, without HTTP or NATS."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session, func, select

from proto.clock import ClockTicked
from proto.subjects import unit_token
from services.common.clock import CHINA
from services.common.errors import ApiError
from services.common.outbox import OutboxEntry
from services.progress.closeout import decide_closeout, request_closeout
from services.progress.extensions import decide_extension, request_extension
from services.progress.flags import Thresholds
from services.progress.models import ProgressReport, ProgressTask, Rollup
from services.progress.reads import rollups, task_status
from services.progress.receipts import acknowledge, pending_receipts
from services.progress.reports import record_report
from services.progress.rollups import DIMENSIONS, contribution
from services.progress.schemas import ReportIn
from services.progress.status import Rules, apply_clock_tick
from tests.progress.conftest import OFFICE, RULES, SUBJECTS, unit, upsert


def at(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 10, 0, tzinfo=UTC)


def report(session: Session, task_id: str, who: str, when: datetime, key: str | None = None, **body: object):  # type: ignore[no-untyped-def]
    body.setdefault("percent", 10)
    return record_report(
        session=session,
        subjects=SUBJECTS,
        principal=unit(who),
        task_id=task_id,
        report=ReportIn.model_validate(body),
        idempotency_key=key,
        now=when,
        rules=RULES,
    )


def tick(session: Session, day: date, rules: Rules = RULES) -> None:
    apply_clock_tick(
        session=session, subjects=SUBJECTS, event=ClockTicked(event_id=f"tick-{day}", today=day), rules=rules
    )


def task(session: Session, task_id: str) -> ProgressTask:
    session.expire_all()
    found = session.get(ProgressTask, task_id)
    assert found is not None
    return found


def status_events(session: Session) -> list[dict]:  # type: ignore[type-arg]
    rows = session.exec(select(OutboxEntry).where(OutboxEntry.subject == SUBJECTS.status_changed)).all()
    return [json.loads(r.payload) for r in sorted(rows, key=lambda r: r.seq or 0)]


def test_new_task_is_blue_with_a_status_event_naming_host_unit_ids(session: Session) -> None:
    tid = upsert(session)
    assert task(session, tid).flag == "blue"
    [event] = status_events(session)
    assert event["old_flag"] is None and event["new_flag"] == "blue"
    assert event["host_unit_ids"] == [unit_token("甲局")] and event["host_units"] == ["甲局"]


def test_missed_periods_turn_yellow_then_red_on_the_clock(session: Session) -> None:
    tid = upsert(session, today=date(2026, 3, 1), issued=date(2026, 3, 1), due=None)
    acknowledge(
        session=session, subjects=SUBJECTS, principal=unit("甲局"), task_id=tid, now=at(2026, 3, 1), rules=RULES
    )
    tick(session, date(2026, 4, 5))
    assert task(session, tid).flag == "blue"
    tick(session, date(2026, 4, 6))  # March's report is five days late
    assert (task(session, tid).flag, task(session, tid).rule) == ("yellow", "missed_periods")
    tick(session, date(2026, 5, 6))  # April's too
    assert (task(session, tid).flag, task(session, tid).missed_periods) == ("red", 2)
    # Reporting for April (on track) covers the gap: blue again.
    report(session, tid, "甲局", at(2026, 5, 7), percent=40, period="2026-04")
    assert task(session, tid).flag == "blue"
    assert [e["new_flag"] for e in status_events(session)] == ["blue", "yellow", "red", "blue"]
    assert status_events(session)[2]["rule"] == "missed_periods"


def test_behind_far_behind_and_overdue_on_the_clock(session: Session) -> None:
    tid = upsert(session)
    acknowledge(
        session=session, subjects=SUBJECTS, principal=unit("甲局"), task_id=tid, now=at(2026, 1, 21), rules=RULES
    )
    report(session, tid, "甲局", at(2026, 7, 2), percent=35, period="2026-07")
    assert (task(session, tid).flag, task(session, tid).rule) == ("yellow", "behind")
    report(session, tid, "甲局", at(2026, 7, 3), percent=15, period="2026-07")
    assert (task(session, tid).flag, task(session, tid).rule) == ("red", "far_behind")
    report(session, tid, "甲局", at(2026, 12, 30), percent=99, period="2026-12")
    assert task(session, tid).flag == "blue"
    tick(session, date(2027, 1, 1))
    assert (task(session, tid).flag, task(session, tid).overdue) == ("red", True)
    assert "已逾期 1 天" in task(session, tid).reason


def test_unsigned_assignment_turns_yellow_after_the_receipt_days(session: Session) -> None:
    tid = upsert(session, hosts=("甲局", "丙局"), today=date(2026, 1, 20))
    assert {r.unit_id for r in pending_receipts(session=session, unit_id=None, limit=10, offset=0)} == {
        unit_token("甲局"),
        unit_token("丙局"),
    }
    tick(session, date(2026, 1, 25))  # Wed–Fri signed nothing; the weekend does not count
    assert task(session, tid).flag == "blue"
    tick(session, date(2026, 1, 26))  # the fourth working day
    assert (task(session, tid).flag, task(session, tid).rule) == ("yellow", "unacknowledged")
    assert "4 个工作日" in task(session, tid).reason
    acknowledge(
        session=session, subjects=SUBJECTS, principal=unit("甲局"), task_id=tid, now=at(2026, 1, 26), rules=RULES
    )
    assert task(session, tid).flag == "yellow"
    acknowledge(
        session=session, subjects=SUBJECTS, principal=unit("丙局"), task_id=tid, now=at(2026, 1, 26), rules=RULES
    )
    assert task(session, tid).flag == "blue"
    assert pending_receipts(session=session, unit_id=None, limit=10, offset=0) == []
    with pytest.raises(ApiError) as refused:
        acknowledge(
            session=session, subjects=SUBJECTS, principal=unit("乙局"), task_id=tid, now=at(2026, 1, 26), rules=RULES
        )
    assert refused.value.status == 403  # a co-unit does not sign


def test_receipt_days_are_working_days_across_national_day(session: Session) -> None:
    # Assigned 30 Sep 2025: 1–8 Oct are 国庆+中秋, Sat 11 Oct a make-up day, so the third working
    # day is 11 Oct and the task turns yellow on Mon 13 Oct, not on 4 Oct as with calendar days.
    rules = Rules(thresholds=Thresholds(yellow_missed=50, red_missed=50))  # only the receipt rule in play
    tid = upsert(session, today=date(2025, 9, 30), issued=date(2025, 9, 30), rules=rules)
    for day in (date(2025, 10, 4), date(2025, 10, 8), date(2025, 10, 11), date(2025, 10, 12)):
        tick(session, day, rules)
        assert task(session, tid).flag == "blue", day
    tick(session, date(2025, 10, 13), rules)
    assert (task(session, tid).flag, task(session, tid).rule) == ("yellow", "unacknowledged")


def test_group_members_report_through_expanded_ids(session: Session) -> None:
    members = [unit_token("东街道"), unit_token("西街道")]
    tid = upsert(session, hosts=("各街道",), host_ids=members)
    accepted, created = report(session, tid, "东街道", at(2026, 2, 1), percent=20)
    assert created and accepted.unit_id == members[0]
    with pytest.raises(ApiError) as refused:
        report(session, tid, "各街道", at(2026, 2, 1))
    assert refused.value.status == 403
    with pytest.raises(ApiError) as other:
        report(session, tid, "丁局", at(2026, 2, 1))
    assert (other.value.status, other.value.code) == (403, "unit_not_responsible")


def test_completion_is_the_mean_of_host_units_and_quantities_count(session: Session) -> None:
    tid = upsert(session, hosts=("甲局", "丙局"), quantities=(20, 150))
    report(session, tid, "乙局", at(2026, 2, 1), percent=90)
    assert task(session, tid).percent == 90  # only a co-unit has reported so far
    report(session, tid, "甲局", at(2026, 2, 2), percent=30)
    assert task(session, tid).percent == 30  # host units count once one has reported
    accepted, _ = report(session, tid, "丙局", at(2026, 2, 3), percent=80, quantities={"0": 10, "1": 75})
    assert accepted.completion == 50.0  # ratios 0.5 and 0.5, not the 80 written
    assert task(session, tid).percent == 40.0  # mean of 30 and 50
    with pytest.raises(ApiError) as unknown:
        report(session, tid, "甲局", at(2026, 2, 4), quantities={"2": 1})
    assert unknown.value.code == "unknown_quantity"


def test_idempotent_retry_returns_the_first_answer(session: Session) -> None:
    tid = upsert(session)
    first, created = report(session, tid, "甲局", at(2026, 2, 1), key="k1", percent=10)
    again, created_again = report(session, tid, "甲局", at(2026, 2, 9), key="k1", percent=10)
    assert created and not created_again and again == first
    assert session.exec(select(func.count()).select_from(ProgressReport)).one() == 1
    assert task(session, tid).report_count == 1
    _, other_unit = report(session, tid, "乙局", at(2026, 2, 1), key="k1", percent=10)
    assert other_unit  # keys are scoped to the unit


def test_stale_narrative_against_the_previous_period(session: Session) -> None:
    tid = upsert(session)
    text = "一期项目主体施工中，已完成投资3.2亿元，新增规上企业8家。"
    first, _ = report(session, tid, "甲局", at(2026, 2, 1), narrative=text, period="2026-01")
    assert not first.stale
    correction, _ = report(session, tid, "甲局", at(2026, 2, 2), narrative=text, period="2026-01")
    assert not correction.stale  # the same period again is a correction, not a repeat
    repeat, _ = report(session, tid, "甲局", at(2026, 3, 1), narrative=text + "。", period="2026-02")
    assert repeat.stale and task(session, tid).stale
    fresh, _ = report(
        session, tid, "甲局", at(2026, 4, 1), narrative="二期厂房封顶，设备调试，新增企业12家。", period="2026-03"
    )
    assert not fresh.stale and not task(session, tid).stale


def test_extension_before_the_deadline_moves_the_due_date_and_keeps_both(session: Session) -> None:
    tid = upsert(session, due=date(2026, 6, 30))
    acknowledge(
        session=session, subjects=SUBJECTS, principal=unit("甲局"), task_id=tid, now=at(2026, 1, 21), rules=RULES
    )
    report(session, tid, "甲局", at(2026, 5, 1), percent=30, period="2026-04")
    assert task(session, tid).flag == "red"  # 30% done, 66.7% expected by a June deadline
    with pytest.raises(ApiError) as co:
        request_extension(
            session=session,
            principal=unit("乙局"),
            task_id=tid,
            due_date=date(2026, 12, 31),
            reason="配合单位无权申请",
            now=at(2026, 5, 2),
            rules=RULES,
        )
    assert co.value.status == 403
    ext = request_extension(
        session=session,
        principal=unit("甲局"),
        task_id=tid,
        due_date=date(2026, 12, 31),
        reason="用地审批延后",
        now=at(2026, 5, 2),
        rules=RULES,
    )
    with pytest.raises(ApiError) as twice:
        request_extension(
            session=session,
            principal=unit("甲局"),
            task_id=tid,
            due_date=date(2027, 3, 31),
            reason="再次申请",
            now=at(2026, 5, 2),
            rules=RULES,
        )
    assert twice.value.code == "extension_pending"
    decide_extension(
        session=session,
        subjects=SUBJECTS,
        principal=OFFICE,
        extension_id=ext.extension_id,
        approve=True,
        comment="同意",
        now=at(2026, 5, 3),
        rules=RULES,
    )
    now = task(session, tid)
    assert (now.due_date, now.original_due_date) == (date(2026, 12, 31), date(2026, 6, 30))
    assert now.flag == "blue"  # 30% against 33% expected by the year end is on track
    status = task_status(conn=session.connection(), task_id=tid, today=date(2026, 5, 3), zone=CHINA, limit=10, offset=0)
    assert [(e["previous_due_date"], e["requested_due_date"], e["state"]) for e in status.extensions] == [
        ("2026-06-30", "2026-12-31", "approved")
    ]
    # A re-ingest of the task keeps the approved date over the notice's.
    upsert(session, due=date(2026, 6, 30), version=2, today=date(2026, 5, 4))
    assert task(session, tid).due_date == date(2026, 12, 31)


def test_extension_after_the_deadline_is_refused(session: Session) -> None:
    tid = upsert(session, due=date(2026, 6, 30))
    with pytest.raises(ApiError) as late:
        request_extension(
            session=session,
            principal=unit("甲局"),
            task_id=tid,
            due_date=date(2026, 12, 31),
            reason="来不及了",
            now=at(2026, 7, 1),
            rules=RULES,
        )
    assert late.value.code == "deadline_passed"
    ext = request_extension(
        session=session,
        principal=unit("甲局"),
        task_id=tid,
        due_date=date(2026, 9, 30),
        reason="设备到货晚",
        now=at(2026, 6, 1),
        rules=RULES,
    )
    decide_extension(
        session=session,
        subjects=SUBJECTS,
        principal=OFFICE,
        extension_id=ext.extension_id,
        approve=False,
        comment="不同意",
        now=at(2026, 6, 2),
        rules=RULES,
    )
    assert task(session, tid).due_date == date(2026, 6, 30)


def test_closeout_sent_back_then_approved(session: Session) -> None:
    tid = upsert(session)
    report(session, tid, "甲局", at(2026, 11, 1), percent=40, period="2026-10")
    assert task(session, tid).flag == "red"
    with pytest.raises(ApiError) as co:
        request_closeout(session=session, principal=unit("乙局"), task_id=tid, summary="", now=at(2026, 11, 2))
    assert co.value.status == 403
    first = request_closeout(
        session=session, principal=unit("甲局"), task_id=tid, summary="已全部完成", now=at(2026, 11, 2)
    )
    with pytest.raises(ApiError) as bare:
        decide_closeout(
            session=session,
            subjects=SUBJECTS,
            principal=OFFICE,
            closeout_id=first.closeout_id,
            approve=False,
            comment=" ",
            now=at(2026, 11, 3),
            rules=RULES,
        )
    assert bare.value.code == "comment_required"
    decide_closeout(
        session=session,
        subjects=SUBJECTS,
        principal=OFFICE,
        closeout_id=first.closeout_id,
        approve=False,
        comment="缺少验收材料",
        now=at(2026, 11, 3),
        rules=RULES,
    )
    assert (task(session, tid).closeout_state, task(session, tid).flag) == ("", "red")
    second = request_closeout(
        session=session, principal=unit("甲局"), task_id=tid, summary="补充验收材料", now=at(2026, 11, 4)
    )
    decide_closeout(
        session=session,
        subjects=SUBJECTS,
        principal=OFFICE,
        closeout_id=second.closeout_id,
        approve=True,
        comment="",
        now=at(2026, 11, 5),
        rules=RULES,
    )
    closed = task(session, tid)
    assert (closed.closeout_state, closed.flag, closed.rule, closed.percent) == ("closed", "blue", "closed", 100)
    with pytest.raises(ApiError) as more:
        report(session, tid, "甲局", at(2026, 11, 6))
    assert more.value.code == "task_closed"
    tick(session, date(2027, 3, 1))  # no missed periods or overdue for a closed task
    assert task(session, tid).flag == "blue"
    assert status_events(session)[-1]["rule"] == "closed"


def _recomputed(session: Session) -> dict[tuple[str, str], tuple[int, ...]]:
    expected: dict[tuple[str, str], list[int]] = {}
    for t in session.exec(select(ProgressTask)).all():
        part = contribution(t)
        if part is None:
            continue
        for dim, key in part["keys"]:
            row = expected.setdefault((dim, key), [0] * 7)
            row[0] += 1
            row[("blue", "yellow", "red").index(part["flag"]) + 1] += 1
            row[4] += part["closed"]
            row[5] += part["overdue"]
            row[6] += part["completion_tenths"]
    return {k: tuple(v) for k, v in expected.items()}


def test_a_new_units_first_rollup_row_and_status_event_carry_its_name(session: Session) -> None:
    upsert(session, number=1, hosts=("新设局",), cos=(), today=date(2026, 12, 20))  # far behind: red at once
    by_unit = {r.key: r.label for r in rollups(conn=session.connection(), by="unit").data}
    assert by_unit == {unit_token("新设局"): "新设局"}
    payloads = [json.loads(r.payload) for r in session.exec(select(OutboxEntry)).all()]
    changed = [p for p in payloads if "new_flag" in p]
    assert changed and all(p["host_units"] == ["新设局"] for p in changed)


def test_rollups_are_incremental_and_match_a_recomputation(session: Session) -> None:
    upsert(session, number=1, hosts=("甲局",), leaders=("王明",), chapter="二")
    upsert(session, number=2, hosts=("甲局", "丙局"), leaders=("李红",), chapter="二")
    upsert(session, number=3, hosts=("丙局",), leaders=("王明", "李红"), chapter="三", due=date(2026, 3, 31))
    report(session, "t-1", "甲局", at(2026, 7, 2), percent=50, period="2026-06")
    report(session, "t-2", "丙局", at(2026, 7, 2), percent=15, period="2026-06")
    report(session, "t-3", "丙局", at(2026, 7, 2), percent=40, period="2026-06")
    upsert(session, number=2, hosts=("丙局",), leaders=("李红",), chapter="三", version=2, today=date(2026, 7, 2))
    upsert(session, number=1, version=3, removed=True, today=date(2026, 7, 3))
    stored = {
        (r.dimension, r.key): (r.total, r.blue, r.yellow, r.red, r.closed, r.overdue, r.completion_tenths)
        for r in session.exec(select(Rollup)).all()
        if r.total
    }
    assert stored == _recomputed(session)
    by_unit = {r.label: r for r in rollups(conn=session.connection(), by="unit").data}
    assert set(by_unit) == {"丙局"}  # 甲局 hosts only the removed task now
    assert (by_unit["丙局"].total, by_unit["丙局"].red, by_unit["丙局"].overdue) == (2, 2, 1)
    assert by_unit["丙局"].average_completion == 27.5
    assert {r.key for r in rollups(conn=session.connection(), by="leader").data} == {"王明", "李红"}
    assert all(rollups(conn=session.connection(), by=d).count for d in DIMENSIONS)
    with pytest.raises(ApiError):
        rollups(conn=session.connection(), by="town")
