"""Reading and acknowledging escalations, and ticking the clock."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, select

from proto.clock import ClockTicked
from proto.subjects import Subjects
from services.common.access import access_denied
from services.common.errors import ApiError
from services.common.identity import Principal
from services.common.outbox import stage
from services.notify.cases import OPEN_STATES
from services.notify.models import ClockState, Escalation


def require_escalation(*, session: Session, escalation_id: str) -> Escalation:
    row = session.get(Escalation, escalation_id)
    if row is None:
        raise ApiError(
            404, "escalation_not_found", f"未找到督办事项 {escalation_id}", f"escalation {escalation_id} not found"
        )
    return row


def addressed_to(principal: Principal, row: Escalation) -> bool:
    """A unit or a leader's post the escalation names as a recipient."""
    wanted = {"unit": principal.unit_id, "post": principal.post_id}
    return any(r.get("id") == wanted.get(str(r.get("kind"))) and r.get("id") for r in row.recipients)


def check_may_acknowledge(principal: Principal, row: Escalation) -> None:
    if principal.role != "office" and not addressed_to(principal, row):
        raise access_denied(
            "只有督查室或督办对象可以签收此督办", "only the office or a recipient may acknowledge this escalation"
        )
    if row.state not in (*OPEN_STATES, "held"):
        raise ApiError(
            409,
            "escalation_not_open",
            f"督办事项已{'办结' if row.state == 'closed' else '完成'}，无需签收",
            f"the escalation is {row.state}; there is nothing to acknowledge",
        )


def list_escalations(
    *,
    session: Session,
    party: str | None,
    task: str | None,
    unit: str | None,
    level: str | None,
    rule: str | None,
    state: str | None,
    open_only: bool,
    limit: int,
    offset: int,
) -> list[Escalation]:
    stmt = select(Escalation)
    if party is not None:
        stmt = stmt.where(col(Escalation.parties).contains(f" {party} "))
    if task:
        stmt = stmt.where(Escalation.task_id == task)
    if unit:
        stmt = stmt.where(col(Escalation.parties).contains(f" {unit} ") | (Escalation.unit == unit))
    if level:
        stmt = stmt.where(Escalation.level == level)
    if rule:
        stmt = stmt.where(Escalation.rule == rule)
    if state:
        stmt = stmt.where(Escalation.state == state)
    if open_only:
        stmt = stmt.where(col(Escalation.state).in_(OPEN_STATES))
    stmt = stmt.order_by(col(Escalation.raised_at).desc(), col(Escalation.escalation_id)).offset(offset).limit(limit)
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
