"""Raising escalations from status changes, acknowledging them, and ticking the clock."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Session, select

from proto.clock import ClockTicked
from proto.escalation import EscalationRaised
from proto.progress import StatusChanged
from proto.subjects import Subjects
from services.common.errors import ApiError
from services.common.inbox import remember, seen
from services.common.outbox import stage
from services.notify.ladder import escalation_id, steps_for
from services.notify.models import ClockState, Escalation

STATUS_CONSUMER = "notify-status-changed"


def escalate(*, session: Session, subjects: Subjects, change: StatusChanged) -> int:
    if seen(session, STATUS_CONSUMER, change.event_id):
        return 0
    raised = 0
    for step in steps_for(change):
        eid = escalation_id(change.event_id, step.level, step.unit_id)
        if session.get(Escalation, eid) is not None:
            continue
        session.add(
            Escalation(
                escalation_id=eid,
                level=step.level,
                task_id=change.task_id,
                unit=step.unit,
                unit_id=step.unit_id,
                message=step.message,
            )
        )
        stage(
            session,
            subjects.escalation_raised_for_id(step.level, step.unit_id),
            EscalationRaised(
                event_id=eid,
                source="notify",
                correlation_id=change.event_id,
                escalation_id=eid,
                level=step.level,
                task_id=change.task_id,
                unit=step.unit,
                unit_id=step.unit_id,
                message=step.message,
            ),
        )
        raised += 1
    remember(session, STATUS_CONSUMER, change.event_id)
    session.commit()
    return raised


def require_escalation(*, session: Session, escalation_id: str) -> Escalation:
    row = session.get(Escalation, escalation_id)
    if row is None:
        raise ApiError(
            404, "escalation_not_found", f"未找到督办事项 {escalation_id}", f"escalation {escalation_id} not found"
        )
    return row


def acknowledge(*, session: Session, escalation_id: str, by: str, now: datetime) -> Escalation:
    row = require_escalation(session=session, escalation_id=escalation_id)
    if row.acknowledged_at is None:
        row.acknowledged_at = now
        row.acknowledged_by = by
        session.add(row)
        session.commit()
    return row


def list_escalations(
    *,
    session: Session,
    unit: str | None,
    level: str | None,
    open_only: bool,
    limit: int,
    offset: int,
    unit_id: str | None = None,
) -> list[Escalation]:
    stmt = select(Escalation)
    if unit_id is not None:
        stmt = stmt.where(Escalation.unit_id == unit_id)
    if unit:
        stmt = stmt.where(Escalation.unit == unit)
    if level:
        stmt = stmt.where(Escalation.level == level)
    if open_only:
        stmt = stmt.where(Escalation.acknowledged_at == None)  # noqa: E711
    stmt = stmt.order_by(Escalation.raised_at.desc()).offset(offset).limit(limit)  # type: ignore[attr-defined]
    return list(session.exec(stmt).all())


def tick_if_new_day(*, session: Session, subjects: Subjects, today: date) -> bool:
    """Stage one clock.tick per date; its id is the date, so replicas ticking at once collapse to one."""
    state = session.get(ClockState, 1) or ClockState(id=1)
    if state.last_tick is not None and state.last_tick >= today:
        return False
    state.last_tick = today
    session.add(state)
    stage(session, subjects.clock_tick, ClockTicked(event_id=f"tick-{today.isoformat()}", source="notify", today=today))
    session.commit()
    return True
