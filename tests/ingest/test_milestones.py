"""Milestones within a task: several (date, target) steps, carried to the registry's events."""

from __future__ import annotations

from datetime import date

from services.ingest.parsing.milestones import extract_milestones
from services.ingest.parsing.parser import parse_text

HEAD = "某某县人民政府\n关于分解落实2025年政府工作报告任务的通知\n"


def steps(text: str) -> list[tuple[str, str, float | None, str | None]]:
    return [(m.phrase, m.due_date.isoformat(), m.value, m.unit) for m in extract_milestones(text, 2025, None)]


def test_staged_targets_become_milestones() -> None:
    assert steps("新建5G基站，上半年完成100个，年底前完成200个。") == [
        ("上半年", "2025-06-30", 100.0, "个"),
        ("年底前", "2025-12-31", 200.0, "个"),
    ]
    assert steps("项目6月底前开工，年底前主体完工。") == [
        ("6月底前", "2025-06-30", None, None),
        ("年底前", "2025-12-31", None, None),
    ]
    # 全部完成 states the whole: 100%, so the first step is half the work.
    assert steps("2025年完成改造50%，2026年全部完成。") == [
        ("2025年", "2025-12-31", 50.0, "%"),
        ("2026年", "2026-12-31", 100.0, "%"),
    ]


def test_one_due_date_is_no_milestone() -> None:
    assert steps("年底前新增规上工业企业20家。") == []
    assert steps("扩大有效投资，力争投资增长8%。") == []


def test_parse_and_registry_event_carry_the_milestones() -> None:
    from sqlmodel import Session

    from services.registry.versions import register_notice
    from tests.registry.conftest import NOW, SUBJECTS, new_engine, notice_event
    from tests.registry.test_versions import _events

    notice = parse_text(
        HEAD
        + "济某政发〔2025〕3号\n一、稳增长\n1.新建5G基站，上半年完成100个，年底前完成200个。（牵头单位：县工信局）\n"
    )
    (task,) = notice.tasks
    assert [m.due_date for m in task.milestones] == [date(2025, 6, 30), date(2025, 12, 31)]
    engine = new_engine("sqlite://")
    with Session(engine) as session:
        register_notice(session=session, subjects=SUBJECTS, event=notice_event(notice), now=NOW)
        (event,) = _events(session)
    assert [(m.phrase, m.value) for m in event.milestones] == [("上半年", 100.0), ("年底前", 200.0)]


def test_a_doubtful_parse_is_registered_as_reference_for_review() -> None:
    from sqlmodel import Session, select

    from services.registry.models import RegistryNotice
    from services.registry.versions import register_notice
    from tests.registry.conftest import NOW, SUBJECTS, new_engine, notice_event

    prose = "。".join(["全面贯彻落实各项部署要求，推动经济社会高质量发展"] * 120)
    notice = parse_text(HEAD + "济某政发〔2026〕4号\n一、总体要求\n" + prose + "\n1.扩大投资。（牵头单位：县发改局）\n")
    assert notice.review and "needs_review" in {w.code for w in notice.warnings}
    (task,) = notice.tasks
    assert (task.rule, task.confidence) == ("inline", 1.0)
    sure = parse_text(HEAD + "济某政发〔2026〕5号\n一、稳增长\n1.扩大投资。（牵头单位：县发改局）\n")
    assert sure.review == []
    engine = new_engine("sqlite://")
    with Session(engine) as session:
        for parsed in (notice, sure):
            register_notice(session=session, subjects=SUBJECTS, event=notice_event(parsed), now=NOW)
        states = {n.doc_no: n.supervision for n in session.exec(select(RegistryNotice))}
    assert states == {"济某政发〔2026〕4号": "reference", "济某政发〔2026〕5号": "supervised"}


def test_task_confidence_follows_its_rules() -> None:
    notice = parse_text(
        HEAD + "一、稳增长\n1.扩大投资。（牵头单位：县发改局）\n2.促进消费。（县商务局、县财政局）\n3.稳定外贸。\n"
    )
    assert [(t.rule, t.confidence) for t in notice.tasks] == [("inline", 1.0), ("unlabelled", 0.75), ("none", 0.4)]
