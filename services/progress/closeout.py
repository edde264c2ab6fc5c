"""办结: the host unit asks to close a task; the office approves it or sends it back with a comment.

A closed task is blue, counts as 100% done and expects no more reports.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Session, col, select

from proto.subjects import Subjects
from services.common.errors import ApiError
from services.common.identity import Principal
from services.progress.models import Closeout
from services.progress.reports import authorise_unit, task_or_404
from services.progress.status import Rules, commit, refresh


def request_closeout(*, session: Session, principal: Principal, task_id: str, summary: str, now: datetime) -> Closeout:
    task = task_or_404(session, task_id, lock=True)
    unit_id = authorise_unit(principal, task, host_only=True)
    if task.closeout_state == "closed":
        raise ApiError(409, "task_closed", "任务已办结", "the task is already closed")
    if task.closeout_state == "requested":
        raise ApiError(409, "closeout_pending", "该任务已有待审批的办结申请", "a close-out request is already pending")
    row = Closeout(closeout_id=uuid.uuid4().hex, task_id=task_id, unit_id=unit_id, summary=summary, requested_at=now)
    task.closeout_state = "requested"
    session.add(row)
    session.add(task)
    session.commit()
    return row


def decide_closeout(
    *,
    session: Session,
    subjects: Subjects,
    principal: Principal,
    closeout_id: str,
    approve: bool,
    comment: str,
    now: datetime,
    rules: Rules,
) -> Closeout:
    row = session.get(Closeout, closeout_id, with_for_update=True)
    if row is None:
        raise ApiError(404, "closeout_not_found", f"未找到办结申请 {closeout_id}", f"close-out {closeout_id} not found")
    if row.state != "pending":
        raise ApiError(409, "already_decided", "该申请已审批", "this request was already decided")
    if not approve and not comment.strip():
        raise ApiError(422, "comment_required", "退回办结申请须说明理由", "sending a close-out back needs a comment")
    task = task_or_404(session, row.task_id, lock=True)
    row.state = "approved" if approve else "returned"
    row.decided_at, row.decided_by, row.comment = now, principal.token_id, comment
    session.add(row)
    if approve:
        task.closeout_state = "closed"
        task.percent = 100.0
    else:
        task.closeout_state = ""
    refresh(session=session, subjects=subjects, task=task, today=rules.day(now), rules=rules, cause=closeout_id)
    commit(session)
    return row


def pending_closeouts(*, session: Session) -> list[Closeout]:
    stmt = select(Closeout).where(Closeout.state == "pending").order_by(col(Closeout.requested_at))
    return list(session.exec(stmt).all())
