"""Every rule and step of the ladder on a controlled China calendar (2026: 国庆 1–7 October with
the 调休 Saturday 10 October, and 25 September off)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from services.notify.rules import Rules
from tests.notify.harness import LEADER, Sim, task_event


@pytest.fixture
def sim(tmp_path: Path) -> Sim:
    return Sim(tmp_path)


def _september(sim: Sim, *, due: date | None = date(2026, 12, 31)) -> None:
    """One task supervised from 1 September, everything reported through August."""
    sim.today = date(2026, 9, 1)
    sim.task(task_event(due=due, start=date(2026, 9, 1)))
    for unit in ("ugongxin0001", "ufagai00001"):
        sim.sign("t-1", unit)


def test_advance_report_reminder_falls_three_working_days_before_the_end_across_a_holiday(sim: Sim) -> None:
    _september(sim)
    sim.task(task_event(2, start=date(2026, 9, 1), units={"ugongxin0001": "县工业和信息化局"}))
    sim.run_to(date(2026, 9, 30))
    advance = [s for s in sim.steps if s.rule == "advance_report"]
    # 30 Sep (Wed) back three working days: 29, 28, then 24 (25 Sep is a holiday, 26–27 a weekend).
    assert {s.raised_on for s in advance} == {date(2026, 9, 24)}
    # One reminder per unit and notice, listing its tasks not yet reported.
    by_unit = {s.recipients[0].id: s for s in advance}
    assert set(by_unit) == {"ugongxin0001", "ufagai00001"} and all(len(s.recipients) == 1 for s in advance)
    assert by_unit["ugongxin0001"].task_ids == ("t-1", "t-2") and by_unit["ufagai00001"].task_ids == ("t-1",)
    step = by_unit["ugongxin0001"]
    assert step.title == "【临近提醒】济兖政发〔2026〕1号"
    for words in ("县工业和信息化局", "第1项、第2项（共 2 项）", "2026-09", "2026-09-30 前报送"):
        assert words in step.message
    sim.run_to(date(2026, 9, 30))
    assert len([s for s in sim.steps if s.rule == "advance_report"]) == 2  # once a period


def test_deadline_reminder_ten_working_days_before_across_national_day_and_the_make_up_saturday(sim: Sim) -> None:
    _september(sim, due=date(2026, 10, 16))
    sim.run_to(date(2026, 10, 16))
    due = [s[0] for s in sim.sent() if s[1] == "advance_due"]
    # 16 Oct back ten working days: 15 14 13 12, Sat 10 (调休), 9 8, then 30 29 28 September.
    assert due == [date(2026, 9, 28)]


def test_missing_report_is_chased_numbered_and_spaced_then_climbs_to_the_leader_and_the_head(sim: Sim) -> None:
    _september(sim)
    sim.report("t-1", "2026-08")
    sim.run_to(date(2026, 11, 2))
    chase = [(day, rule, title.split("】")[0] + "】") for day, rule, title in sim.sent() if not rule.startswith("adv")]
    assert chase == [
        (date(2026, 10, 8), "report_missing", "【催办】"),  # the first working day after September
        (date(2026, 10, 9), "report_missing", "【第2次催办】"),  # +1 working day
        (date(2026, 10, 13), "report_missing", "【第3次催办】"),  # +3: Sat 10 (调休), 12, 13
        (date(2026, 10, 22), "unanswered", "【督办】"),  # +7 working days, past the last 催办
        (date(2026, 10, 29), "head", "【提级督办】"),  # 5 working days unacknowledged
    ]
    dudu = next(s for s in sim.steps if s.rule == "unanswered")
    post = next(r for r in dudu.recipients if r.kind == "post")
    assert (post.id, post.holder) == (LEADER.post_id, "王强")  # the post's current holder hears it
    assert any(r.kind == "office" and r.copy for r in dudu.recipients)
    assert "经 3 次催办仍未报送进展" in dudu.message and "王强" in dudu.message
    head = next(s for s in sim.steps if s.rule == "head")
    assert head.recipients[0].kind == "office_head" and "列入下期通报" in head.message
    subjects = [subject for subject, _ in sim.published()]
    assert "t.escalation.raised.head.ugongxin0001" in subjects
    assert "t.escalation.leader.pfuxianzhang.red" in subjects


def test_the_message_stands_on_its_own(sim: Sim) -> None:
    _september(sim)
    sim.status("t-1", "red")
    (step,) = sim.steps
    assert step.title == "【督办】济兖政发〔2026〕1号 第1项"
    for words in (
        "新增规上工业企业20家",
        "序时进度 45%，实际完成 10%，滞后 35 个百分点",
        "县发展改革局",
        "李明（现由王强负责）",
    ):
        assert words in step.message
    assert "完成时限：2026-12-31" in step.message
    assert step.link == "https://luoshi.example.cn/tasks/t-1" and step.link in step.message


def test_a_report_closes_the_chase_and_the_next_period_starts_afresh(sim: Sim) -> None:
    _september(sim)
    sim.report("t-1", "2026-08")
    sim.run_to(date(2026, 10, 9))
    sim.report("t-1", "2026-09")
    sim.run_to(date(2026, 10, 30))
    (case,) = [e for e in sim.escalations() if e.rule == "report_missing"]
    assert case.state == "closed" and "已报送 2026-09" in case.closed_reason and case.step == 2
    assert [h.kind for h in sim.history("t-1") if h.escalation_id == case.escalation_id] == [
        "raised",
        "step",
        "closed",
    ]


def test_acknowledgement_pauses_the_ladder_and_the_step_comes_back_if_the_cause_stays(sim: Sim) -> None:
    from sqlmodel import Session

    from services.notify import cases
    from services.notify.models import Escalation
    from services.notify.pending import commit

    _september(sim)
    sim.today = date(2026, 10, 8)
    sim.status("t-1", "red")
    (row,) = sim.escalations()
    with Session(sim.engine, expire_on_commit=False) as session:
        cases.acknowledge(
            session, sim.context(), session.get(Escalation, row.escalation_id), actor="unit:x", comment="已部署"
        )
        commit(session)
    sim.run_to(date(2026, 10, 30))
    red = [(s.raised_on, s.title.split("】")[0]) for s in sim.steps if s.escalation_id == row.escalation_id]
    # Paused five working days (9, Sat 10 调休, 12, 13, 14): raised again on the 14th, the head five later.
    assert red == [
        (date(2026, 10, 8), "【督办"),
        (date(2026, 10, 14), "【第2次督办"),
        (date(2026, 10, 21), "【提级督办"),
    ]
    kinds = [h.kind for h in sim.history("t-1") if h.escalation_id == row.escalation_id]
    assert kinds == ["raised", "ack", "step", "step"]


def test_red_blue_red_inside_the_window_is_one_escalation_and_outside_it_two(sim: Sim) -> None:
    _september(sim)
    sim.today = date(2026, 9, 7)
    sim.status("t-1", "red")
    sim.today = date(2026, 9, 9)
    sim.status("t-1", "blue", rule="on_track")
    sim.today = date(2026, 9, 14)
    sim.status("t-1", "red")
    reds = [e for e in sim.escalations() if e.rule == "red"]
    assert len(reds) == 1 and reds[0].state == "open"
    assert [h.kind for h in sim.history("t-1")] == ["raised", "closed", "reopened"]
    assert [s.rule for s in sim.steps] == ["red"]
    sim.status("t-1", "blue", rule="on_track")
    sim.today = date(2026, 11, 2)  # more than ten working days later
    sim.status("t-1", "red")
    assert len([e for e in sim.escalations() if e.rule == "red"]) == 2


def test_silences_hold_a_step_until_their_end(sim: Sim) -> None:
    from sqlmodel import Session

    from services.notify.models import Silence

    _september(sim)
    with Session(sim.engine) as session:
        session.add(
            Silence(
                scope="unit",
                target="ugongxin0001",
                starts_on=date(2026, 10, 1),
                until=date(2026, 10, 12),
                reason="换届",
            )
        )
        session.add(
            Silence(
                scope="unit", target="ufagai00001", starts_on=date(2026, 10, 1), until=date(2026, 10, 9), reason="换届"
            )
        )
        session.add(
            Silence(
                scope="rule",
                target="advance_report",
                starts_on=date(2026, 9, 1),
                until=date(2026, 12, 31),
                reason="试运行",
            )
        )
        session.commit()
    sim.report("t-1", "2026-08")
    sim.run_to(date(2026, 10, 11))
    assert [s.rule for s in sim.steps] == ["report_missing"]
    (step,) = sim.steps
    # Both units muted through the 9th: held, then sent on the 10th (调休) to the one no longer muted.
    assert step.raised_on == date(2026, 10, 10)
    assert [r.id for r in step.recipients] == ["ufagai00001"]
    assert "silenced" in [h.kind for h in sim.history("t-1")]


def test_archiving_the_notice_closes_its_chase(sim: Sim) -> None:
    _september(sim)
    sim.status("t-1", "red")
    sim.task(task_event(start=date(2026, 9, 1), supervision="archived"))
    (row,) = sim.escalations()
    assert row.state == "closed" and row.closed_reason == "通知已归档"
    sim.run_to(date(2026, 12, 31))
    assert len(sim.steps) == 1


def test_unsigned_assignment_is_chased_after_its_window_and_signing_ends_it(sim: Sim) -> None:
    sim.today = date(2026, 9, 28)
    sim.task(task_event(start=date(2026, 9, 28)))
    sim.sign("t-1", "ugongxin0001")
    sim.run_to(date(2026, 10, 9))
    receipt = [s for s in sim.steps if s.rule == "receipt_missing"]
    # Three working days after 28 Sep are 29, 30 Sep and 8 Oct: chased on the 9th, the unit that has not signed.
    assert [(s.raised_on, [r.id for r in s.recipients]) for s in receipt] == [(date(2026, 10, 9), ["ufagai00001"])]
    assert "交办已 4 个工作日仍未签收" in receipt[0].message
    sim.sign("t-1", "ufagai00001")
    (case,) = [e for e in sim.escalations() if e.rule == "receipt_missing"]
    assert case.state == "closed"


def test_external_units_are_not_chased_and_reference_notices_never(sim: Sim) -> None:
    sim.today = date(2026, 9, 1)
    sim.task(task_event(1, start=date(2026, 9, 1), external=("ugongxin0001", "ufagai00001")))
    sim.task(task_event(2, start=date(2026, 9, 1), supervision="reference"))
    sim.task(task_event(3, start=date(2026, 9, 1), external=("ugongxin0001",)))
    sim.status("t-1", "red")
    sim.status("t-2", "red")
    sim.run_to(date(2026, 10, 31))
    assert {t for s in sim.steps for t in (s.task_ids or (s.task_id,))} == {"t-3"}
    assert all(r.id != "ugongxin0001" for s in sim.steps for r in s.recipients)


def test_baseline_red_is_not_escalated(sim: Sim) -> None:
    _september(sim)
    sim.status("t-1", "red", rule="baseline")
    assert sim.steps == []


def test_switched_off_rules_raise_nothing(tmp_path: Path) -> None:
    rules = Rules.model_validate({"rules": {"advance_report": False, "advance_due": False, "report_missing": False}})
    sim = Sim(tmp_path, rules=rules)
    _september(sim)
    sim.run_to(date(2026, 12, 31))
    assert sim.steps == []
