"""签收: host units acknowledge newly assigned tasks; unsigned assignments feed the flag rule."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from proto.progress import ReceiptSigned
from proto.subjects import Subjects
from services.common.errors import ApiError
from services.common.identity import Principal
from services.common.outbox import stage
from services.progress.models import ProgressTask, Receipt
from services.progress.reports import authorise_unit, task_or_404
from services.progress.status import Rules, commit, refresh


def acknowledge(
    *, session: Session, subjects: Subjects, principal: Principal, task_id: str, now: datetime, rules: Rules
) -> Receipt:
    """Sign for a task; signing twice keeps the first time."""
    task = task_or_404(session, task_id, lock=True)
    unit_id = authorise_unit(principal, task, host_only=True)
    receipt = session.get(Receipt, (task_id, unit_id))
    if receipt is None:
        raise ApiError(404, "receipt_not_found", "本单位在该任务下没有待签收的交办", "no assignment to sign for")
    if receipt.acknowledged_at is None:
        receipt.acknowledged_at = now
        receipt.acknowledged_by = principal.token_id
        session.add(receipt)
        session.flush()
        pending = session.exec(
            select(Receipt).where(
                Receipt.task_id == task_id,
                col(Receipt.unit_id).in_(task.host_unit_ids),
                Receipt.acknowledged_at == None,  # noqa: E711
            )
        ).all()
        task.unacknowledged_since = min((r.assigned_on for r in pending), default=None)
        stage(
            session,
            subjects.progress_signed,
            ReceiptSigned(source="progress", occurred_at=now, task_id=task_id, unit_id=unit_id),
        )
        refresh(
            session=session, subjects=subjects, task=task, today=rules.day(now), rules=rules, cause=f"receipt-{task_id}"
        )
        commit(session)
    return receipt


def pending_receipts(*, session: Session, unit_id: str | None, limit: int, offset: int) -> list[Receipt]:
    """Assignments not yet signed for; a unit sees its own, the office and supervisors all."""
    stmt = (
        select(Receipt)
        .join(ProgressTask, col(ProgressTask.task_id) == col(Receipt.task_id))
        .where(Receipt.acknowledged_at == None, ProgressTask.removed == False)  # noqa: E711, E712
    )
    if unit_id is not None:
        stmt = stmt.where(Receipt.unit_id == unit_id)
    stmt = stmt.order_by(col(Receipt.assigned_on), col(Receipt.task_id)).offset(offset).limit(limit)
    return list(session.exec(stmt).all())
