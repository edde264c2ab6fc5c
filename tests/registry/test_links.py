"""Links across the shared notices: year-over-year series, city → district cascades, overlaps."""

from __future__ import annotations

from sqlmodel import Session, select

from proto.task import task_id_for
from services.registry.links import decide_link, query_links, series_of, suggest_links
from services.registry.models import RegistryTask, TaskLink
from services.registry.versions import register_notice
from tests.registry.conftest import NOW, SUBJECTS, notice_event, parsed

JINING, Y2020, Y2023 = "济政发〔2023〕1号", "济兖政发〔2020〕1号", "济兖政办字〔2023〕24号"
Y2025, Y2026 = "济兖政发〔2025〕1号", "济兖政发〔2026〕1号"


def _pairs(session: Session, kind: str) -> dict[tuple[str, str], TaskLink]:
    rows, _ = query_links(session, kind=kind, limit=10_000)
    keys = {t.task_id: t.key for t in session.exec(select(RegistryTask)).all()}
    return {(keys[r.source_task_id], keys[r.target_task_id]): r for r in rows}


def test_the_industrial_cluster_tasks_of_2025_and_2026_are_a_series(shared_session: Session) -> None:
    series = _pairs(shared_session, "series")
    link = series[(f"{Y2025}#1", f"{Y2026}#1")]
    assert link.confidence >= 0.5
    assert any("产业" in p for p in link.evidence["shared_phrases"])
    assert link.evidence["rule"] and link.evidence["similarity"] > 0.3


def test_the_high_tech_enterprise_target_is_followed_across_four_notices(shared_session: Session) -> None:
    chain = series_of(shared_session, task_id_for(Y2026, 4))
    keys = {t.key for t in chain}
    assert {f"{Y2020}#3", f"{Y2023}#3", f"{Y2025}#8", f"{Y2026}#4"} <= keys
    link = _pairs(shared_session, "series")[(f"{Y2025}#8", f"{Y2026}#4")]
    assert "高新技术企业" in link.evidence["shared_targets"]


def test_jining_tasks_naming_yanzhou_link_to_yanzhou_tasks(shared_session: Session) -> None:
    cascades = _pairs(shared_session, "cascade")
    naming = {(s, t): link for (s, t), link in cascades.items() if "兖州区" in link.evidence["named_unit"]}
    sources = {s for s, _t in naming}
    assert {f"{JINING}#8", f"{JINING}#17", f"{JINING}#44", f"{JINING}#65"} <= sources
    assert all(s.startswith(JINING) and t.startswith("济兖") for s, t in naming)
    assert (f"{JINING}#65", f"{Y2023}#42") in naming
    assert all(not t.startswith(Y2020) for _s, t in cascades)  # 2020 is before the city plan


def test_decisions_stay_when_links_are_recomputed(shared_session: Session) -> None:
    series = _pairs(shared_session, "series")
    keep = series[(f"{Y2025}#1", f"{Y2026}#1")]
    drop = series[(f"{Y2025}#8", f"{Y2026}#4")]
    decide_link(shared_session, keep.id, status="confirmed", actor="李督查", now=NOW)  # type: ignore[arg-type]
    decide_link(shared_session, drop.id, status="rejected", actor="李督查", now=NOW)  # type: ignore[arg-type]
    tasks = shared_session.exec(select(RegistryTask).where(RegistryTask.doc_no == Y2026)).all()
    suggest_links(shared_session, tasks, now=NOW)
    shared_session.commit()
    again = _pairs(shared_session, "series")
    assert again[(f"{Y2025}#1", f"{Y2026}#1")].status == "confirmed"
    assert again[(f"{Y2025}#8", f"{Y2026}#4")].status == "rejected"
    assert again[(f"{Y2025}#8", f"{Y2026}#4")].decided_by == "李督查"


def test_the_same_commitment_in_two_notices_of_one_year_is_an_overlap(session: Session) -> None:
    report = parsed("yanzhou-2026-work-report-tasks")
    special = report.model_copy(deep=True)
    special.doc.doc_no = "济兖政办字〔2026〕5号"
    special.doc.title = "济宁市兖州区人民政府办公室关于印发工业经济倍增专项行动方案的通知"
    special.doc.issuer = "济宁市兖州区人民政府办公室"
    special.tasks = [special.tasks[0].model_copy(update={"number": 1})]
    register_notice(session=session, subjects=SUBJECTS, event=notice_event(report, "a" * 16), now=NOW)
    register_notice(session=session, subjects=SUBJECTS, event=notice_event(special, "b" * 16), now=NOW)
    overlaps = _pairs(session, "overlap")
    assert (f"{Y2026}#1", "济兖政办字〔2026〕5号#1") in overlaps or (
        "济兖政办字〔2026〕5号#1",
        f"{Y2026}#1",
    ) in overlaps
    link = next(iter(overlaps.values()))
    assert link.confidence >= 0.9 and "可能重复" in link.evidence["rule"]
    assert len(overlaps) == 1
