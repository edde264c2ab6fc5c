"""延期: a host unit asks for a later due date before the deadline; the office decides.

The task keeps its original due date beside the approved one, and the extension rows keep
every request and decision, so the history shows both dates.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlmodel import Session, col, select

from proto.subjects import Subjects
from services.common.errors import ApiError
from services.common.identity import Principal
from services.common.params import YEARS_AROUND_NOTICE, near_year
from services.progress.models import Extension
from services.progress.reports import authorise_unit, task_or_404
from services.progress.status import Rules, commit, refresh


def request_extension(
    *,
    session: Session,
    principal: Principal,
    task_id: str,
    due_date: date,
    reason: str,
    now: datetime,
    rules: Rules,
) -> Extension:
    task = task_or_404(session, task_id, lock=True)
    unit_id = authorise_unit(principal, task, host_only=True)
    today = rules.day(now)
    if task.closeout_state == "closed":
        raise ApiError(409, "task_closed", "任务已办结，不能申请延期", "the task is closed")
    if task.due_date is None:
        raise ApiError(409, "no_due_date", "任务没有完成时限，无需延期", "the task has no due date to extend")
    if today > task.due_date:
        raise ApiError(
            409,
            "deadline_passed",
            f"完成时限 {task.due_date} 已过，延期须在到期前申请",
            f"the due date {task.due_date} has passed; ask before the deadline",
        )
    if due_date <= task.due_date:
        raise ApiError(
            422,
            "due_date_not_later",
            f"申请的时限须晚于现时限 {task.due_date}",
            f"the new due date must be after {task.due_date}",
        )
    year = (task.issued_date or task.due_date).year
    if not near_year(due_date, year):
        raise ApiError(
            422,
            "due_date_out_of_range",
            f"申请的时限距通知年份 {year} 超过 {YEARS_AROUND_NOTICE} 年",
            f"the new due date is more than {YEARS_AROUND_NOTICE} years from the notice's year {year}",
        )
    if session.exec(select(Extension).where(Extension.task_id == task_id, Extension.state == "pending")).first():
        raise ApiError(
            409, "extension_pending", "该任务已有待审批的延期申请", "an extension request is already pending"
        )
    row = Extension(
        extension_id=uuid.uuid4().hex,
        task_id=task_id,
        unit_id=unit_id,
        previous_due_date=task.due_date,
        requested_due_date=due_date,
        reason=reason,
        requested_at=now,
    )
    session.add(row)
    session.commit()
    return row


def decide_extension(
    *,
    session: Session,
    subjects: Subjects,
    principal: Principal,
    extension_id: str,
    approve: bool,
    comment: str,
    now: datetime,
    rules: Rules,
) -> Extension:
    row = session.get(Extension, extension_id, with_for_update=True)
    if row is None:
        raise ApiError(
            404, "extension_not_found", f"未找到延期申请 {extension_id}", f"extension {extension_id} not found"
        )
    if row.state != "pending":
        raise ApiError(409, "already_decided", "该申请已审批", "this request was already decided")
    task = task_or_404(session, row.task_id, lock=True)
    row.state = "approved" if approve else "refused"
    row.decided_at, row.decided_by, row.comment = now, principal.token_id, comment
    session.add(row)
    if approve:
        task.due_date = row.requested_due_date
        refresh(session=session, subjects=subjects, task=task, today=rules.day(now), rules=rules, cause=extension_id)
    commit(session)
    return row


def pending_extensions(*, session: Session) -> list[Extension]:
    stmt = select(Extension).where(Extension.state == "pending").order_by(col(Extension.requested_at))
    return list(session.exec(stmt).all())
