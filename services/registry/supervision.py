"""The office sets whether a notice is supervised and from when; its tasks are published again."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Session, col, select

from proto.notice import Supervision
from proto.subjects import Subjects
from services.common.supervision import check_start
from services.registry.models import RegistryNotice, RegistryTask
from services.registry.publish import republish


def pick_start(notice: RegistryNotice, state: Supervision, start: date | None, today: date) -> date:
    """The start asked for; else a notice starting supervision now starts today, one already supervised keeps its own."""
    if start is not None:
        return start
    if notice.supervision == "supervised" and state == "supervised" and notice.supervision_start is not None:
        return notice.supervision_start
    return today


def set_supervision(
    *,
    session: Session,
    subjects: Subjects,
    notice: RegistryNotice,
    state: Supervision,
    start: date | None,
    today: date,
    now: datetime,
) -> int:
    """Change the notice's state and start, and stage `task.upserted` for each of its tasks in force.

    Returns the number of tasks republished; nothing is written or published when nothing changes.
    Raises `ApiError` 422 for a start outside the notice's year ± 1, before anything is written.
    """
    start = pick_start(notice, state, start, today)
    check_start(start, notice.year)
    if (notice.supervision, notice.supervision_start) == (state, start):
        return 0
    notice.supervision, notice.supervision_start = state, start
    session.add(notice)
    ids = session.exec(
        select(RegistryTask.task_id).where(RegistryTask.doc_no == notice.doc_no, col(RegistryTask.removed).is_(False))
    ).all()
    return republish(session, subjects, ids, now=now, correlation_id=f"supervision-{notice.doc_no}-{state}-{start}")
