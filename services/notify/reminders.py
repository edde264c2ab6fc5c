"""临近提醒 for a period's reports: one per unit and notice, listing its tasks not yet reported.

Every task of a period kind has the same report deadline, so the day of the reminder is the
period's, not the task's: one query finds the tasks, and a unit hears once about all of its
tasks of a notice instead of once per task (a county's month-end would otherwise write one
escalation per task). The reminder is a `done` escalation with no task of its own (`task_id`
empty), addressed to the unit; its history row is the unit's.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlmodel import Session, col

from proto.escalation import EscalationRaised
from services.common import periods
from services.common.outbox import outbox_row
from services.notify.context import Context
from services.notify.history import pad, record
from services.notify.models import ChasedTask, Escalation
from services.notify.outgoing import OutgoingStep, Recipient
from services.notify.pending import Case, new_case, pending, save
from services.notify.silences import Muted

RULE = "advance_report"
LISTED = 30  # task numbers named in one message; the rest are counted


@dataclass
class Group:
    unit_id: str
    unit: str
    doc_no: str
    tasks: list[tuple[int, str]] = field(default_factory=list)  # (number, task_id)


def reminder_id(unit_id: str, doc_no: str, period: str) -> str:
    return hashlib.sha1(f"{unit_id}|{RULE}|{doc_no}|{period}".encode()).hexdigest()[:24]


def due_period(kind: str, ctx: Context) -> periods.Period | None:
    """The period whose reminder is due today: from N working days before its end to its end."""
    period = periods.period_containing(kind, ctx.today)
    remind = ctx.calendar.add_working_days(period.end, -ctx.rules.advance.report_days)
    return period if remind <= ctx.today <= period.end else None


def advance_reports(session: Session, ctx: Context, muted: Muted) -> int:
    if not ctx.rules.on(RULE) or muted.of("rule", RULE):
        return 0
    kinds = session.execute(select(ChasedTask.period_kind).distinct()).scalars().all()
    raised = 0
    for kind in kinds:
        period = due_period(kind, ctx)
        if period is not None:
            groups = _groups(session, ctx, muted, kind, period)
            raised += sum(_remind(session, ctx, group, period) for group in groups)
    return raised


def _groups(session: Session, ctx: Context, muted: Muted, kind: str, period: periods.Period) -> list[Group]:
    """The units to remind, each with its unreported tasks of one notice."""
    t = ChasedTask.__table__
    rows = session.execute(
        select(t.c.task_id, t.c.doc_no, t.c.number, t.c.units, t.c.supervision_start, t.c.first_seen).where(
            t.c.period_kind == kind,
            t.c.supervision == "supervised",
            t.c.removed == False,  # noqa: E712
            t.c.closed == False,  # noqa: E712
            (t.c.reported_through.is_(None)) | (t.c.reported_through < period.end),
        )
    )
    groups: dict[tuple[str, str], Group] = {}
    for task_id, doc_no, number, units, start, seen in rows:
        first = periods.first_period_day(kind, start or seen)
        if first is None or first > period.start or muted.of("task", task_id):
            continue  # the period is not a whole one of its supervision
        for uid, unit in units.items():
            if (unit.get("external") and not ctx.rules.chase_external) or muted.of("unit", uid):
                continue
            group = groups.setdefault((uid, doc_no), Group(uid, str(unit.get("name") or uid), doc_no))
            group.tasks.append((number, task_id))
    known = _stored(session, [reminder_id(u, d, period.label) for u, d in groups])
    return [g for (u, d), g in sorted(groups.items()) if reminder_id(u, d, period.label) not in known]


def _stored(session: Session, ids: list[str], chunk: int = 500) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(ids), chunk):
        stmt = select(Escalation.escalation_id).where(col(Escalation.escalation_id).in_(ids[start : start + chunk]))
        found.update(session.execute(stmt).scalars().all())
    return found


def _message(group: Group, period: periods.Period, link: str) -> tuple[str, str]:
    numbers = sorted(n for n, _t in group.tasks)
    named = "、".join(f"第{n}项" for n in numbers[:LISTED]) + ("等" if len(numbers) > LISTED else "")
    title = f"【临近提醒】{group.doc_no}"
    message = (
        f"{title}：{group.unit}承办的 {named}（共 {len(numbers)} 项）本期（{period.label}）进展尚未报送，"
        f"应于 {period.end} 前报送，请按时报送。详情：{link}"
    )
    return title, message


def _remind(session: Session, ctx: Context, group: Group, period: periods.Period) -> int:
    link = f"{ctx.console_url.rstrip('/')}/units/{group.unit_id}"
    title, message = _message(group, period, link)
    row = new_case(
        escalation_id=reminder_id(group.unit_id, group.doc_no, period.label),
        level="advance",
        task_id="",
        rule=RULE,
        cause_key=period.label,
        opened_on=ctx.today,
        raised_on=ctx.today,
        raised_at=ctx.now,
        state="done",
        unit=group.unit,
        unit_id=group.unit_id,
        title=title,
        message=message,
        doc_no=group.doc_no,
        recipients=[Recipient("unit", group.unit_id, group.unit).__dict__],
        parties=pad([group.unit_id]),
    )
    save(session, row)
    record(session, ctx, row, "raised")
    _publish(session, ctx, row, group, link)
    return 1


def _publish(session: Session, ctx: Context, row: Case, group: Group, link: str) -> None:
    step_id = f"{row.escalation_id}-advance-1"
    event = EscalationRaised(
        event_id=hashlib.sha1(step_id.encode()).hexdigest()[:32],
        escalation_id=row.escalation_id,
        source="notify",
        occurred_at=ctx.now,
        level="advance",
        task_id="",
        unit=group.unit,
        unit_id=group.unit_id,
        message=row.message,
        rule=RULE,
        title=row.title,
        doc_no=group.doc_no,
        recipients=[group.unit],
        link=link,
    )
    subject = ctx.subjects.escalation_raised_for_id("advance", group.unit_id)
    pending(session).events.append(outbox_row(subject, event))
    ctx.planner(
        session,
        OutgoingStep(
            step_id=step_id,
            escalation_id=row.escalation_id,
            task_id="",
            doc_no=group.doc_no,
            task_number=0,
            level="advance",
            rule=RULE,
            step=1,
            title=row.title,
            message=row.message,
            link=link,
            raised_on=ctx.today,
            raised_at=ctx.now,
            recipients=(Recipient("unit", group.unit_id, group.unit),),
            task_ids=tuple(t for _n, t in sorted(group.tasks)),
        ),
    )
