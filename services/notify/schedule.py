"""When each date rule next looks at a task: pure date arithmetic on China's working days."""

from __future__ import annotations

from datetime import date, timedelta

from services.common import periods
from services.common.workdays import WorkCalendar
from services.notify.models import ChasedTask
from services.notify.rules import Rules


def chaseable(task: ChasedTask, rules: Rules) -> bool:
    """Supervised, open, and with a unit in scope to chase."""
    if task.supervision != "supervised" or task.removed or task.closed:
        return False
    return bool(in_scope(task, rules))


def in_scope(task: ChasedTask, rules: Rules) -> dict[str, str]:
    """Host unit id → name of the units the office chases on this task."""
    return {
        uid: str(unit.get("name") or uid)
        for uid, unit in task.units.items()
        if rules.chase_external or not unit.get("external")
    }


def supervision_from(task: ChasedTask) -> date | None:
    return task.supervision_start or task.first_seen


def next_unreported(task: ChasedTask) -> periods.Period | None:
    """The first whole period from supervision's start that no report covers yet."""
    start = periods.first_period_day(task.period_kind, supervision_from(task))
    if start is None:
        return None
    if task.reported_through is not None:
        start = max(start, task.reported_through + timedelta(days=1))
    return periods.period_containing(task.period_kind, start)


def reschedule(task: ChasedTask, rules: Rules, calendar: WorkCalendar, *, today: date, open_report_case: bool) -> None:
    """Set the dates the rules next look at the task; None where nothing is due."""
    if not chaseable(task, rules):
        task.due_advance_on = task.report_check_on = None
        return
    period = next_unreported(task)
    task.report_check_on = (
        calendar.next_working_day(period.end)
        if period and not open_report_case and rules.on("report_missing")
        else None
    )
    task.due_advance_on = (
        calendar.add_working_days(task.due_date, -rules.advance.due_days)
        if task.due_date and rules.on("advance_due")
        else None
    )


def receipt_chase_on(assigned_on: date, task: ChasedTask, rules: Rules, calendar: WorkCalendar) -> date:
    """The working day after the 签收 window: the window opens when supervision starts, not before."""
    since = max(assigned_on, task.supervision_start or assigned_on)
    return calendar.add_working_days(since, rules.chase.receipt_days + 1)


def period_label_end(kind: str, label: str | None, fallback: date) -> date:
    """The last day of the period a report names; the period holding `fallback` when it names none."""
    for candidate in (kind, *periods.KINDS):
        try:
            return (
                periods.parse_period(candidate, label).end if label else periods.period_containing(kind, fallback).end
            )
        except ValueError:
            continue
    return periods.period_containing(kind, fallback).end
