"""The supervision process on events: what a task change, a flag, a report or a 签收 does to the chase."""

from __future__ import annotations

from sqlmodel import Session, col, select

from proto.progress import ProgressReported, ReceiptSigned, StatusChanged
from proto.task import TaskUpserted
from services.notify import ladder
from services.notify.cases import OPEN_STATES, close
from services.notify.context import Context
from services.notify.models import ChasedTask, Escalation, PendingReceipt
from services.notify.schedule import chaseable, period_label_end, receipt_chase_on, reschedule
from services.notify.silences import in_force

NOT_JUDGED = ("baseline", "reference", "archived")


def chased_task(session: Session, ctx: Context, task_id: str) -> ChasedTask:
    """The task's row; a stub when a progress event overtakes the registry's (filled by it later)."""
    return session.get(ChasedTask, task_id) or ChasedTask(task_id=task_id, first_seen=ctx.today)


def open_cases(session: Session, task_id: str, rule: str | None = None) -> list[Escalation]:
    stmt = select(Escalation).where(Escalation.task_id == task_id, col(Escalation.state).in_([*OPEN_STATES, "held"]))
    if rule is not None:
        stmt = stmt.where(Escalation.rule == rule)
    return list(session.exec(stmt).all())


def _why_not_chased(task: ChasedTask) -> str:
    if task.removed:
        return "任务已从通知中删除"
    if task.closed:
        return "任务已办结"
    if task.supervision == "archived":
        return "通知已归档"
    if task.supervision != "supervised":
        return "通知转为参考，不再督办"
    return "任务无本级责任单位"


def _settle(session: Session, ctx: Context, task: ChasedTask) -> None:
    """After any change: close what no longer has a cause, then set when the rules look next."""
    if not chaseable(task, ctx.rules):
        for row in open_cases(session, task.task_id):
            close(session, ctx, row, _why_not_chased(task))
    elif task.flag == "red" and task.rule not in NOT_JUDGED:
        ladder.open_red(session, ctx, task, in_force(session, ctx.today))
    reschedule(
        task,
        ctx.rules,
        ctx.calendar,
        today=ctx.today,
        open_report_case=bool(open_cases(session, task.task_id, "report_missing")),
    )
    session.add(task)


def _units(event: TaskUpserted, known: dict[str, dict[str, object]]) -> dict[str, dict[str, object]]:
    """Every host unit, groups expanded; a group's members are directory units, so in scope."""
    refs = {ref.unit_id: ref for ref in event.host_units}
    units = {}
    for uid in event.host_unit_ids or list(refs):
        ref = refs.get(uid)
        name = (ref.canonical or ref.name) if ref else known.get(uid, {}).get("name", uid)
        units[uid] = {"name": name, "external": bool(ref and ref.external)}
    return units


def apply_task(session: Session, ctx: Context, event: TaskUpserted) -> None:
    task = chased_task(session, ctx, event.task_id)
    task.doc_no, task.number, task.text = event.doc_no, event.number, event.text
    task.supervision, task.supervision_start = event.supervision, event.supervision_start
    task.due_date, task.removed = event.due_date, event.removed
    task.units = _units(event, task.units)
    task.leaders = [ref.model_dump() for ref in event.leader_refs] or [{"name": n} for n in event.leaders]
    _assign_receipts(session, ctx, task)
    _settle(session, ctx, task)


def _assign_receipts(session: Session, ctx: Context, task: ChasedTask) -> None:
    """A 签收 is owed by each host unit from the day notify first sees it assigned."""
    rows = {r.unit_id: r for r in session.exec(select(PendingReceipt).where(PendingReceipt.task_id == task.task_id))}
    for uid in task.units:
        row = rows.get(uid) or PendingReceipt(
            task_id=task.task_id, unit_id=uid, assigned_on=ctx.today, chase_on=ctx.today
        )
        if not row.signed and not row.chased:
            row.chase_on = receipt_chase_on(row.assigned_on, task, ctx.rules, ctx.calendar)
        session.add(row)


def apply_status(session: Session, ctx: Context, event: StatusChanged) -> None:
    task = chased_task(session, ctx, event.task_id)
    task.flag, task.rule, task.reason = event.new_flag, event.rule or "", event.reason
    task.percent, task.expected_percent = event.percent, event.expected_percent
    task.period_kind = event.period_kind or task.period_kind
    if event.reported_through and (task.reported_through is None or event.reported_through > task.reported_through):
        task.reported_through = event.reported_through
    task.closed = event.rule in ("closed", "done")
    for uid, name in zip(event.host_unit_ids, event.host_units, strict=False):
        if uid in task.units:
            task.units[uid] = {**task.units[uid], "name": name}
    if event.new_flag != "red":
        for row in open_cases(session, task.task_id, "red"):
            close(session, ctx, row, f"任务已恢复（{'黄灯' if event.new_flag == 'yellow' else '蓝灯'}）")
    _settle(session, ctx, task)


def apply_report(session: Session, ctx: Context, event: ProgressReported) -> None:
    task = chased_task(session, ctx, event.task_id)
    end = period_label_end(task.period_kind, event.period, ctx.today)
    if task.reported_through is None or end > task.reported_through:
        task.reported_through = end
    for row in open_cases(session, task.task_id, "report_missing"):
        if period_label_end(task.period_kind, row.cause_key, ctx.today) <= task.reported_through:
            close(session, ctx, row, f"{event.unit} 已报送 {event.period or ''} 进展".replace("  ", " "))
    _settle(session, ctx, task)


def apply_signed(session: Session, ctx: Context, event: ReceiptSigned) -> None:
    receipt = session.get(PendingReceipt, (event.task_id, event.unit_id))
    if receipt is not None:
        receipt.signed = True
        session.add(receipt)
    unsigned = set(ladder.unsigned(session, event.task_id))
    for row in open_cases(session, event.task_id, "receipt_missing"):
        if not unsigned:
            close(session, ctx, row, "责任单位均已签收")
