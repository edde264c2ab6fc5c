"""When a task's flag or rule can next change with nothing but time passing. Pure date arithmetic.

A judgement depends on the calendar through five things only: the share of time elapsed (the
gap to 序时进度 crossing a threshold), the deadline passing, a reporting period's report falling
overdue, a 签收 window closing, and supervision's baseline ending. Each gives the first date it
can change the verdict; the earliest is when the daily tick needs to look at the task again.
Between those dates only the figures of the reason move, and reads recompute them.

The gap date is taken a day early rather than late: judging a task a day before it can change
costs a re-judgement; judging it a day late would show a wrong flag for a day.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from services.common import periods
from services.progress import supervision
from services.progress.flags import day_expected_passes


def next_judgement(task: Any, today: date, rules: Any) -> date | None:
    """The first day after `today` on which `rejudge` may give another flag or rule; None: never by time."""
    if task.closeout_state == "closed" or task.removed or task.percent >= 100:
        return None
    if (task.supervision or "supervised") != "supervised":
        return None
    candidates = [
        _deadline(task, today),
        *_gap_dates(task, today, rules),
        _next_missed(task, today, rules),
        _receipt_window(task, today, rules),
        _baseline_end(task, today, rules),
    ]
    future = [d for d in candidates if d is not None and d > today]
    return min(future) if future else None


def _start(task: Any) -> date | None:
    return task.issued_date or task.assigned_on


def _deadline(task: Any, today: date) -> date | None:
    due = task.due_date
    return due + timedelta(days=1) if due is not None and today <= due else None


def _gap_dates(task: Any, today: date, rules: Any) -> list[date | None]:
    """The days the gap to 序时进度 passes the yellow and the red thresholds (along the milestones)."""
    start, due = _start(task), task.due_date
    if due is None or start is None or start >= due or today > due:
        return []
    milestones = getattr(task, "milestones", None) or ()
    slack = timedelta(days=1 + (due - start).days // 2000)
    out: list[date | None] = []
    for gap in (rules.thresholds.yellow_gap, rules.thresholds.red_gap):
        # The first day 序时进度 exceeds percent + gap. It is rounded to 0.1, which moves the day
        # the flag sees it by up to `slack` either way: looked at that early, and counted as
        # passed (the gap only grows with time) only that late.
        crossing = day_expected_passes(start, due, task.percent + gap, milestones)
        if crossing is not None and crossing + slack > today:
            out.append(max(today + timedelta(days=1), crossing - slack))
    return out


def _next_missed(task: Any, today: date, rules: Any) -> date | None:
    """The day one more reporting period falls overdue."""
    since = task.reported_through + timedelta(days=1) if task.reported_through else task.assigned_on
    if since is None:
        return None
    kind = rules.period_kind(task)
    first = periods.first_period_day(kind, task.supervision_start)
    period = periods.period_containing(kind, max(since, first) if first else since)
    grace = timedelta(days=rules.grace_days)
    while period.end + grace < today:
        period = periods.next_period(period)
    return period.end + grace + timedelta(days=1)


def _receipt_window(task: Any, today: date, rules: Any) -> date | None:
    if not task.unacknowledged_since:
        return None
    since = max(task.unacknowledged_since, task.supervision_start or task.unacknowledged_since)
    return rules.calendar.add_working_days(since, rules.thresholds.receipt_days + 1)


def _baseline_end(task: Any, today: date, rules: Any) -> date | None:
    start = task.supervision_start
    if start is None:
        return None
    return supervision.judged_from(rules.period_kind(task), start, rules.grace_days)
