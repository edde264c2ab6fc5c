"""What the status endpoints read: one task with its history, and the roll-ups."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, select

from services.common.errors import ApiError
from services.progress.closeout import task_closeouts
from services.progress.extensions import task_extensions
from services.progress.models import ProgressReport, Receipt, UnitLatest
from services.progress.reports import task_or_404
from services.progress.rollups import DIMENSIONS, rollup_rows
from services.progress.schemas import RollupRow, RollupsPublic, TaskStatus

_REPORT_FIELDS = {"idempotency_key", "request_hash", "answer"}


def task_reports(*, session: Session, task_id: str, limit: int, offset: int = 0) -> list[ProgressReport]:
    stmt = (
        select(ProgressReport)
        .where(ProgressReport.task_id == task_id)
        .order_by(col(ProgressReport.received_at).desc(), col(ProgressReport.report_id))
        .offset(offset)
        .limit(limit)
    )
    return list(session.exec(stmt).all())


def task_status(*, session: Session, task_id: str, today: date, limit: int, offset: int) -> TaskStatus:
    task = task_or_404(session, task_id)
    unsigned = session.exec(
        select(Receipt).where(Receipt.task_id == task_id, Receipt.acknowledged_at == None)  # noqa: E711
    ).all()
    latest = session.exec(select(UnitLatest).where(UnitLatest.task_id == task_id)).all()
    last = task.last_report_at
    return TaskStatus(
        task_id=task.task_id,
        key=task.key,
        doc_no=task.doc_no,
        number=task.number,
        flag=task.flag,
        rule=task.rule,
        reason=task.reason,
        percent=task.percent,
        expected_percent=task.expected_percent,
        overdue=task.overdue,
        missed_periods=task.missed_periods,
        stale=task.stale,
        closeout_state=task.closeout_state,
        due_date=task.due_date,
        original_due_date=task.original_due_date,
        last_report_at=last,
        days_since_last_report=(today - last.date()).days if last else None,
        report_count=task.report_count,
        unacknowledged=[r.unit_id for r in unsigned if r.unit_id in task.host_unit_ids],
        latest_by_unit=[
            r.model_dump(mode="json", include={"unit_id", "report_id", "completion", "period", "received_at"})
            for r in latest
        ],
        reports=[
            r.model_dump(mode="json", exclude=_REPORT_FIELDS)
            for r in task_reports(session=session, task_id=task_id, limit=limit, offset=offset)
        ],
        extensions=[e.model_dump(mode="json") for e in task_extensions(session=session, task_id=task_id)],
        closeouts=[c.model_dump(mode="json") for c in task_closeouts(session=session, task_id=task_id)],
    )


def rollups(*, session: Session, by: str) -> RollupsPublic:
    if by not in DIMENSIONS:
        raise ApiError(
            422, "rollup_unknown", f"by 只能是 {'、'.join(DIMENSIONS)}", f"by must be one of {', '.join(DIMENSIONS)}"
        )
    rows = [
        RollupRow(
            key=r.key,
            label=r.label,
            total=r.total,
            blue=r.blue,
            yellow=r.yellow,
            red=r.red,
            closed=r.closed,
            overdue=r.overdue,
            average_completion=round(r.completion_tenths / r.total / 10, 1),
        )
        for r in rollup_rows(session=session, by=by)
    ]
    return RollupsPublic(by=by, data=rows, count=len(rows))
