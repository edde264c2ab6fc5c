"""Which report stands for a task: the latest period wins, whatever the arrival order; host units first."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlmodel import Session, select

from services.common.clock import CHINA
from services.progress.ledger import ledger_rows
from services.progress.models import ProgressReport, ProgressTask, UnitLatest
from services.progress.reads import task_status
from services.progress.reports import record_report
from services.progress.schemas import ReportIn
from tests.progress.conftest import DOC, RULES, SUBJECTS, unit, upsert

WHEN = datetime(2026, 4, 20, 2, 0, tzinfo=UTC)


def report(session: Session, task_id: str, who: str, **body: object) -> None:
    record_report(
        session=session,
        subjects=SUBJECTS,
        principal=unit(who),
        task_id=task_id,
        report=ReportIn.model_validate(body),
        idempotency_key=None,
        now=WHEN,
        rules=RULES,
    )


def task(session: Session, task_id: str) -> ProgressTask:
    session.expire_all()
    found = session.get(ProgressTask, task_id)
    assert found is not None
    return found


def ledger_latest(session: Session, number: int = 1) -> str:
    _doc, rows = ledger_rows(session=session, notice=DOC)
    return next(r.latest for r in rows if r.number == number)


def test_a_late_report_for_an_earlier_period_does_not_replace_the_later_one(session: Session) -> None:
    tid = upsert(session, quantities=(10,))
    report(session, tid, "甲局", percent=20, period="2026-04", narrative="四月：完成选址", quantities={"0": 8})
    report(session, tid, "甲局", percent=15, period="2026-03", narrative="三月：前期论证", quantities={"0": 5})
    now = task(session, tid)
    assert (now.percent, now.latest_period, now.latest_narrative) == (80.0, "2026-04", "四月：完成选址")
    assert now.achieved == {"0": 8} and now.report_count == 2
    [mine] = session.exec(select(UnitLatest).where(UnitLatest.task_id == tid)).all()
    assert (mine.period, mine.completion) == ("2026-04", 80.0)
    periods = sorted(r.period for r in session.exec(select(ProgressReport)).all())
    assert periods == ["2026-03", "2026-04"]  # the late report is kept in the history all the same
    # A second report for the latest period is a correction and replaces it.
    report(session, tid, "甲局", percent=25, period="2026-04", narrative="四月：更正", quantities={"0": 9})
    assert (task(session, tid).percent, task(session, tid).latest_narrative) == (90.0, "四月：更正")


def test_the_ledger_names_whose_report_it_shows_and_prefers_the_host_units(session: Session) -> None:
    tid = upsert(session, hosts=("甲局",), cos=("乙局",))
    report(session, tid, "乙局", percent=30, period="2026-03", narrative="协办单位配合完成调研")
    assert ledger_latest(session) == "【2026-03 乙局（协办）】协办单位配合完成调研"
    report(session, tid, "甲局", percent=20, period="2026-03", narrative="主办单位完成方案")
    assert ledger_latest(session) == "【2026-03 甲局】主办单位完成方案"
    # A co-unit's later report does not push the host's aside: completion counts hosts too.
    report(session, tid, "乙局", percent=60, period="2026-04", narrative="协办单位四月进展")
    shown = task(session, tid)
    assert (shown.latest_unit, shown.latest_period, shown.percent) == ("甲局", "2026-03", 20.0)
    assert ledger_latest(session) == "【2026-03 甲局】主办单位完成方案"
    status = task_status(conn=session.connection(), task_id=tid, today=date(2026, 4, 20), zone=CHINA, limit=5, offset=0)
    assert (status.latest_unit, status.latest_period, status.latest_report_id) == (
        "甲局",
        "2026-03",
        shown.latest_report_id,
    )
    report(session, tid, "甲局", percent=40, period="2026-04", narrative="主办单位四月进展")
    assert ledger_latest(session) == "【2026-04 甲局】主办单位四月进展"
