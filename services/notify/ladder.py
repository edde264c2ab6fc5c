"""The ladder on the calendar: 临近提醒, 催办 repeated, the climb to 督办 and to the office head.

`tick` runs once per China working day (a holiday raises nothing dated; the next working day
catches up, since every rule looks for what is due *on or before* today). Each rule reads only
the rows an index says are due, so an ordinary day touches few of a county's tasks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from types import SimpleNamespace
from typing import Any

from sqlmodel import Session, col, select

from services.notify import reminders
from services.notify.cases import OPEN_STATES, case_id, send, step_rule
from services.notify.context import Context
from services.notify.history import record
from services.notify.messages import Cause
from services.notify.models import ChasedTask, Escalation, PendingReceipt
from services.notify.pending import Case, new_case, pending, save
from services.notify.schedule import (
    chaseable,
    next_unreported,
    reschedule,
)
from services.notify.silences import Muted, in_force


def unsigned(session: Session, task_id: str) -> list[str]:
    stmt = select(PendingReceipt.unit_id).where(PendingReceipt.task_id == task_id, PendingReceipt.signed == False)  # noqa: E712
    return list(session.exec(stmt).all())


def cause_for(session: Session, ctx: Context, task: ChasedTask, row: Case) -> Cause:
    rule = step_rule(row)
    if rule == "report_missing":
        return Cause(rule, row.step, period=row.cause_key)
    if rule == "advance_due" and task.due_date:
        return Cause(rule, row.step, days=ctx.calendar.working_days_between(ctx.today, task.due_date))
    if rule == "receipt_missing":
        since = session.exec(
            select(PendingReceipt.assigned_on)
            .where(PendingReceipt.task_id == task.task_id)
            .order_by(col(PendingReceipt.assigned_on))
        ).first()
        start = max(since or ctx.today, task.supervision_start or since or ctx.today)
        return Cause(rule, row.step, days=max(0, ctx.calendar.working_days_between(start, ctx.today)))
    if rule == "unanswered":
        return Cause(rule, row.step, chased=len(ctx.rules.chase.repeat_after), after=row.rule)
    if rule == "head":
        return Cause(rule, row.step, days=ctx.calendar.working_days_between(row.opened_on or ctx.today, ctx.today))
    return Cause(rule, row.step)


def _send(session: Session, ctx: Context, task: ChasedTask, row: Case, muted: Muted) -> bool:
    only = set(unsigned(session, task.task_id)) if row.rule == "receipt_missing" else None
    return send(session, ctx, task, row, cause_for(session, ctx, task, row), muted, only)


def _new(task: ChasedTask, rule: str, key: str, level: str, ctx: Context) -> SimpleNamespace:
    return new_case(
        escalation_id=case_id(task.task_id, rule, key),
        level=level,
        task_id=task.task_id,
        rule=rule,
        cause_key=key,
        opened_on=ctx.today,
        raised_at=ctx.now,
    )


def _schedule_next(row: Case, ctx: Context) -> None:
    """After a step went out: when the next one is due, if any."""
    repeats = ctx.rules.chase.repeat_after
    if row.level == "reminder":
        row.next_on = ctx.after(repeats[min(row.step, len(repeats)) - 1]) if repeats else ctx.after(1)
    elif row.level == "red":
        row.next_on = ctx.after(ctx.rules.escalate.head_after) if ctx.rules.on("head") else None
    else:
        row.next_on = None
    if row.level == "advance":
        row.state = "done"


def open_case(
    session: Session, ctx: Context, task: ChasedTask, rule: str, key: str, level: str, muted: Muted
) -> SimpleNamespace | None:
    """Open an escalation for a cause and send its first step; None when it already exists."""
    row = _new(task, rule, key, level, ctx)
    if _exists(session, task.task_id, row.escalation_id):
        return None
    row.step = 1
    if _send(session, ctx, task, row, muted):
        _schedule_next(row, ctx)
    save(session, row)
    return row


def _exists(session: Session, task_id: str, escalation_id: str) -> bool:
    known = pending(session)
    if escalation_id in known.cases:
        return True
    if task_id in known.looked_up:
        return escalation_id in known.stored
    return session.get(Escalation, escalation_id) is not None


def open_red(session: Session, ctx: Context, task: ChasedTask, muted: Muted) -> None:
    """督办 for a red task: one escalation while it stays red or comes back red within the window."""
    if not ctx.rules.on("red") or not chaseable(task, ctx.rules):
        return
    stmt = (
        select(Escalation)
        .where(Escalation.task_id == task.task_id, Escalation.rule == "red")
        .order_by(col(Escalation.opened_on).desc(), col(Escalation.raised_at).desc())
    )
    latest = session.exec(stmt).first()
    if latest is not None and latest.state in (*OPEN_STATES, "held"):
        return
    window = ctx.rules.escalate.reopen_days
    if latest and latest.closed_on and ctx.calendar.working_days_between(latest.closed_on, ctx.today) <= window:
        _reopen(session, ctx, latest)
        return
    open_case(session, ctx, task, "red", ctx.today.isoformat(), "red", muted)


def _reopen(session: Session, ctx: Context, row: Case) -> None:
    row.state, row.closed_on, row.closed_reason = "open", None, ""
    unanswered = row.level == "red" and row.acknowledged_at is None
    row.next_on = ctx.after(ctx.rules.escalate.head_after) if unanswered and ctx.rules.on("head") else None
    save(session, row)
    record(session, ctx, row, "reopened", note="任务再次亮红灯，沿用原督办")


def climb(session: Session, ctx: Context, task: ChasedTask, row: Case, muted: Muted) -> None:
    """The step due on `row.next_on`: the held one, the paused one again, or the next rung."""
    if row.state == "paused":
        row.step += 1
        row.acknowledged_at = None
    elif row.state == "open" and not _rung_up(row, ctx):
        row.next_on = None
        save(session, row)
        return
    row.state = "open"
    if _send(session, ctx, task, row, muted):
        _schedule_next(row, ctx)
    save(session, row)


def _rung_up(row: Case, ctx: Context) -> bool:
    """Move `row` one rung up; False at the top or where the next rule is switched off."""
    repeats = ctx.rules.chase.repeat_after
    if row.level == "reminder" and row.step < len(repeats):
        row.step += 1
        return True
    if row.level == "reminder" and ctx.rules.on("unanswered"):
        row.level, row.step = "red", 1
        return True
    if row.level == "red" and row.acknowledged_at is None and ctx.rules.on("head"):
        row.level, row.step = "head", 1
        return True
    return False


Checkpoint = Callable[[], None]
CHUNK = 1000


def tick(session: Session, ctx: Context, checkpoint: Checkpoint = lambda: None) -> int:
    """Every dated rule for one China day; returns how many escalations moved or opened.

    `checkpoint` is called after each chunk of tasks: the handler commits there, so the day of a
    month's 临近提醒 holds one chunk in memory, not a county's tasks. Re-running a day after a
    crash half-way skips what was done: every escalation's id is its cause's.
    """
    if not ctx.calendar.is_working_day(ctx.today):
        return 0
    muted = in_force(session, ctx.today)
    return sum(
        rule(session, ctx, muted, checkpoint)
        for rule in (_step_ladder, _advance_reports, _advance_dues, _missing_reports, _missing_receipts)
    )


def _due(session: Session, column: Any, today: date, checkpoint: Checkpoint) -> Iterator[ChasedTask]:
    """The tasks a dated rule is due for, a chunk at a time with their escalations' ids looked up.

    The due ids come first from the date's index alone; ordering the rows themselves by id would
    have the database walk every task to find the few due.
    """
    ids = sorted(session.exec(select(ChasedTask.task_id).where(column <= today)).all())
    for start in range(0, len(ids), CHUNK):
        part = ids[start : start + CHUNK]
        stmt = select(ChasedTask).where(col(ChasedTask.task_id).in_(part), column <= today)
        tasks = sorted(session.exec(stmt).all(), key=lambda t: t.task_id)
        _look_up(session, [t.task_id for t in tasks])
        yield from tasks
        checkpoint()


def _look_up(session: Session, task_ids: list[str], chunk: int = 500) -> None:
    known = pending(session)
    fresh = [t for t in task_ids if t not in known.looked_up]
    for start in range(0, len(fresh), chunk):
        part = fresh[start : start + chunk]
        stmt = select(Escalation.escalation_id).where(col(Escalation.task_id).in_(part))
        known.stored.update(session.exec(stmt).all())
        known.looked_up.update(part)


def _step_ladder(session: Session, ctx: Context, muted: Muted, checkpoint: Checkpoint) -> int:
    due = select(Escalation.escalation_id).where(
        col(Escalation.next_on) <= ctx.today, col(Escalation.state).in_([*OPEN_STATES, "held"])
    )
    ids = sorted(session.exec(due).all())
    for start in range(0, len(ids), CHUNK):
        stmt = select(Escalation).where(col(Escalation.escalation_id).in_(ids[start : start + CHUNK]))
        rows = sorted(session.exec(stmt).all(), key=lambda r: r.escalation_id)
        tasks = _tasks(session, {row.task_id for row in rows})
        for row in rows:
            if (task := tasks.get(row.task_id)) is not None:
                climb(session, ctx, task, row, muted)
        checkpoint()
    return len(ids)


def _tasks(session: Session, ids: set[str], chunk: int = 500) -> dict[str, ChasedTask]:
    """Many tasks by id with a query per `chunk` instead of one per task."""
    found: dict[str, ChasedTask] = {}
    ordered = sorted(ids)
    for start in range(0, len(ordered), chunk):
        stmt = select(ChasedTask).where(col(ChasedTask.task_id).in_(ordered[start : start + chunk]))
        found.update((t.task_id, t) for t in session.exec(stmt).all())
    return found


def _advance_reports(session: Session, ctx: Context, muted: Muted, checkpoint: Checkpoint) -> int:
    raised = reminders.advance_reports(session, ctx, muted)
    checkpoint()
    return raised


def _advance_dues(session: Session, ctx: Context, muted: Muted, checkpoint: Checkpoint) -> int:
    raised = 0
    for task in _due(session, ChasedTask.due_advance_on, ctx.today, checkpoint):
        if task.due_date and task.due_date >= ctx.today:
            raised += (
                open_case(session, ctx, task, "advance_due", task.due_date.isoformat(), "advance", muted) is not None
            )
        task.due_advance_on = None
        session.add(task)
    return raised


def _missing_reports(session: Session, ctx: Context, muted: Muted, checkpoint: Checkpoint) -> int:
    raised = 0
    for task in _due(session, ChasedTask.report_check_on, ctx.today, checkpoint):
        period = next_unreported(task)
        task.report_check_on = None
        if period is not None and period.end < ctx.today:
            raised += open_case(session, ctx, task, "report_missing", period.label, "reminder", muted) is not None
        else:
            reschedule(task, ctx.rules, ctx.calendar, today=ctx.today, open_report_case=False)
        session.add(task)
    return raised


def _missing_receipts(session: Session, ctx: Context, muted: Muted, checkpoint: Checkpoint) -> int:
    stmt = select(PendingReceipt).where(
        PendingReceipt.chase_on <= ctx.today,
        PendingReceipt.signed == False,  # noqa: E712
        PendingReceipt.chased == False,  # noqa: E712
    )
    due: dict[str, list[PendingReceipt]] = {}
    for receipt in session.exec(stmt.order_by(col(PendingReceipt.task_id))).all():
        due.setdefault(receipt.task_id, []).append(receipt)
    raised = 0
    tasks = _tasks(session, set(due))
    for task_id, receipts in due.items():
        task = tasks.get(task_id)
        for receipt in receipts:
            receipt.chased = True
            session.add(receipt)
        if task is None or not chaseable(task, ctx.rules) or not ctx.rules.on("receipt_missing"):
            continue
        key = min(r.chase_on for r in receipts).isoformat()
        raised += open_case(session, ctx, task, "receipt_missing", key, "reminder", muted) is not None
    return raised
