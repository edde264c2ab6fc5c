"""An escalation's life: opened for a cause, stepped up the ladder, acknowledged, closed.

An escalation keeps the rule that opened it (`rule`: advance_report, advance_due,
report_missing, receipt_missing or red) and its place on the ladder (`level`, `step`); the rule a
step is sent under follows from both (`step_rule`): a 催办 that climbed is sent as `unanswered`,
the office head's turn as `head`.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import date

from sqlmodel import Session

from proto.escalation import EscalationRaised
from services.common import periods
from services.common.outbox import outbox_row
from services.notify.context import Context
from services.notify.history import pad, parties_of, record
from services.notify.messages import Cause, compose
from services.notify.models import ChasedTask
from services.notify.outgoing import OutgoingStep, Recipient
from services.notify.pending import Case, pending, save
from services.notify.schedule import in_scope, next_unreported
from services.notify.silences import Muted

OPEN_STATES = ("open", "paused")
# The level an escalation opens at, by the rule that opens it.
FIRST_LEVEL = {
    "advance_due": "advance",
    "report_missing": "reminder",
    "receipt_missing": "reminder",
    "red": "red",
}


def case_id(task_id: str, rule: str, key: str) -> str:
    """Deterministic, so an event handled twice opens the same escalation, not a second one."""
    return hashlib.sha1(f"{task_id}|{rule}|{key}".encode()).hexdigest()[:24]


def step_rule(row: Case) -> str:
    if row.level == "head":
        return "head"
    if row.level == "red" and row.rule != "red":
        return "unanswered"
    return row.rule


def _leaders(task: ChasedTask, *, copy: bool) -> list[Recipient]:
    return [
        Recipient("post", str(lead.get("post_id") or lead.get("name")), str(lead.get("name")), lead.get("holder"), copy)
        for lead in task.leaders
        if lead.get("name") or lead.get("post_id")
    ]


def recipients(task: ChasedTask, level: str, units: dict[str, str], ctx: Context) -> list[Recipient]:
    """Who hears a step: the units always; at 督办 the lead leaders and the office; then the head."""
    office = Recipient("office", "office", ctx.rules.office.name, copy=True)
    people = [Recipient("unit", uid, name, copy=level == "head") for uid, name in units.items()]
    if level == "red":
        people += [*_leaders(task, copy=False), office]
    elif level == "head":
        people = [Recipient("office_head", "office_head", ctx.rules.office.head), office, *_leaders(task, copy=True)]
        people += [Recipient("unit", uid, name, copy=True) for uid, name in units.items()]
    return people


def _leader_names(task: ChasedTask) -> list[str]:
    out = []
    for lead in task.leaders:
        name, holder = str(lead.get("name") or ""), lead.get("holder")
        out.append(f"{name}（现由{holder}负责）" if holder and holder != name else name)
    return out


def missed_periods(task: ChasedTask, ctx: Context) -> int:
    period = next_unreported(task)
    if period is None:
        return 0
    return periods.missed_periods(task.period_kind, since=period.start, today=ctx.today, grace_days=0)


def silenced_until(task: ChasedTask, row: Case, units: dict[str, str], muted: Muted) -> date | None:
    """The last day a silence holds this step back, or None when it may go."""
    holds = [muted.of("task", task.task_id), muted.of("rule", row.rule), muted.of("rule", step_rule(row))]
    if units and all(muted.of("unit", uid) for uid in units):
        holds.append(min(d for uid in units if (d := muted.of("unit", uid))))
    found = [d for d in holds if d is not None]
    return max(found) if found else None


def send(
    session: Session,
    ctx: Context,
    task: ChasedTask,
    row: Case,
    cause: Cause,
    muted: Muted,
    only: set[str] | None = None,
) -> bool:
    """Send the escalation's current step, or hold it while a silence lasts; True when sent.

    `only` narrows the units to those still concerned (the ones that have not signed).
    """
    scope = {uid: n for uid, n in in_scope(task, ctx.rules).items() if only is None or uid in only}
    hold = silenced_until(task, row, scope, muted)
    if hold is not None:
        row.state, row.next_on = "held", ctx.calendar.next_working_day(hold)
        record(session, ctx, row, "silenced", note=f"静默至 {hold}", rule=step_rule(row))
        save(session, row)
        return False
    if not scope:
        close(session, ctx, row, "无待催办的本级单位")
        return False
    units = {uid: n for uid, n in scope.items() if not muted.of("unit", uid)}
    people = recipients(task, row.level, units, ctx)
    cause = replace(cause, head=ctx.rules.office.head)
    head, message = compose(
        task,
        cause,
        units=list(units.values()),
        leaders=_leader_names(task) if row.level in ("red", "head") else [],
        missed=missed_periods(task, ctx) if row.rule == "report_missing" else 0,
        link=ctx.link(task.task_id),
    )
    first = next(iter(units.items()))
    row.unit_id, row.unit = first
    row.title, row.message, row.doc_no = head, message, task.doc_no
    row.raised_at, row.raised_on = ctx.now, ctx.today
    row.recipients = [r.__dict__ for r in people]
    row.parties = pad(parties_of(row))
    save(session, row)
    first = row.step == 1 and row.level == FIRST_LEVEL.get(row.rule)
    record(session, ctx, row, "raised" if first else "step", rule=step_rule(row))
    _publish(session, ctx, task, row, people)
    return True


def _publish(session: Session, ctx: Context, task: ChasedTask, row: Case, people: list[Recipient]) -> None:
    step_id = f"{row.escalation_id}-{row.level}-{row.step}"
    posts = [r.id for r in people if r.kind == "post" and r.id.startswith("p")]
    names = [f"{r.name}（{r.holder}）" if r.holder else r.name for r in people]
    event = EscalationRaised(
        escalation_id=row.escalation_id,
        source="notify",
        occurred_at=ctx.now,
        level=row.level,
        task_id=task.task_id,
        unit=row.unit,
        unit_id=row.unit_id,
        message=row.message,
        rule=step_rule(row),
        step=row.step,
        title=row.title,
        doc_no=task.doc_no,
        task_number=task.number,
        leaders=[str(lead.get("post_id") or lead.get("name")) for lead in task.leaders],
        recipients=names,
        link=ctx.link(task.task_id),
    )
    events = pending(session).events
    for person in people:
        if person.kind == "unit":
            subject = ctx.subjects.escalation_raised_for_id(row.level, person.id)
            events.append(outbox_row(subject, event.model_copy(update={"event_id": _event_id(step_id, person.id)})))
    for post in posts:
        subject = ctx.subjects.escalation_leader(post, row.level)
        events.append(outbox_row(subject, event.model_copy(update={"event_id": _event_id(step_id, post)})))
    ctx.planner(
        session,
        OutgoingStep(
            step_id=step_id,
            escalation_id=row.escalation_id,
            task_id=task.task_id,
            doc_no=task.doc_no,
            task_number=task.number,
            level=row.level,
            rule=step_rule(row),
            step=row.step,
            title=row.title,
            message=row.message,
            link=ctx.link(task.task_id),
            raised_on=ctx.today,
            raised_at=ctx.now,
            recipients=tuple(people),
            leaders=tuple(posts),
        ),
    )


def _event_id(step_id: str, recipient: str) -> str:
    """One id per step and recipient, within the outbox's 64 characters whatever the ids' lengths."""
    return hashlib.sha1(f"{step_id}|{recipient}".encode()).hexdigest()[:32]


def close(session: Session, ctx: Context, row: Case, reason: str) -> None:
    if row.state not in OPEN_STATES:
        return
    row.state, row.closed_on, row.closed_reason, row.next_on = "closed", ctx.today, reason, None
    save(session, row)
    record(session, ctx, row, "closed", note=reason)


def acknowledge(session: Session, ctx: Context, row: Case, *, actor: str, comment: str) -> None:
    """签收 of an escalation: the ladder pauses; the step comes back after the pause if its cause stays."""
    row.acknowledged_at, row.acknowledged_by, row.ack_comment = ctx.now, actor[:300], comment
    row.state = "paused"
    row.next_on = ctx.after(ctx.rules.escalate.ack_pause)
    save(session, row)
    record(session, ctx, row, "ack", actor=actor, note=comment or f"暂停至 {row.next_on}")
