"""The read model as it stood at a period's end: each task re-judged then, and the reports due in the period.

Nothing after the period's last day (China time) counts: a report received a minute after
midnight is left out, a 办结 or a 延期 decided later is undone, a 签收 made later is not yet made.
The tasks are then judged by the service's own rule (`status.rejudge`) with that day as today, so
the same period gives the same figures whenever the bulletin is made. What is not kept as history
(a task's text, leaders, units, supervision state, and due dates changed by re-ingest) is taken as
it is now.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from services.common import periods
from services.common.periods import Period
from services.progress.bulletin_figures import DueReport, Mark, TaskAsOf
from services.progress.models import BulletinMark, Closeout, Extension, ProgressReport, ProgressTask, Receipt
from services.progress.reports import report_rank, task_completion
from services.progress.status import Rules, rejudge, start_date

_TASKS = ProgressTask.__table__  # type: ignore[attr-defined]
_REPORTS = ProgressReport.__table__  # type: ignore[attr-defined]
_CLOSEOUTS = Closeout.__table__  # type: ignore[attr-defined]
_EXTENSIONS = Extension.__table__  # type: ignore[attr-defined]
_RECEIPTS = Receipt.__table__  # type: ignore[attr-defined]
_MARKS = BulletinMark.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class AsOf:
    tasks: list[TaskAsOf]
    due: list[DueReport]
    marks: list[Mark]
    unit_ids: set[str]


def day_start(day: date, rules: Rules) -> datetime:
    """The instant a China day begins, in UTC."""
    return datetime.combine(day, time(0), tzinfo=rules.zone).astimezone(UTC)


def read(conn: Connection, *, doc_nos: Sequence[str], period: Period, rules: Rules) -> AsOf:
    end = day_start(period.end + timedelta(days=1), rules)
    in_notices = _TASKS.c.doc_no.in_(list(doc_nos))
    rows = conn.execute(select(_TASKS).where(in_notices, _TASKS.c.removed.is_(False))).mappings().all()
    tasks = [SimpleNamespace(**row) for row in rows if _existed(row, period.end)]
    ids = [t.task_id for t in tasks]
    reports = _by_task(conn, _REPORTS, ids, _REPORTS.c.received_at < end)
    closeouts = _by_task(conn, _CLOSEOUTS, ids, _CLOSEOUTS.c.state == "approved", _CLOSEOUTS.c.decided_at < end)
    extended = _by_task(conn, _EXTENSIONS, ids, _EXTENSIONS.c.state == "approved", _EXTENSIONS.c.decided_at >= end)
    receipts = _by_task(conn, _RECEIPTS, ids)
    judged, due = [], []
    for task in tasks:
        closed_at = min((c.decided_at for c in closeouts[task.task_id]), default=None)
        _rewind(task, reports[task.task_id], closed_at, extended[task.task_id], receipts[task.task_id], end, rules)
        rejudge(task, period.end, rules)
        judged.append(_as_of(task, closed_at, period, rules))
        due += _due_reports(task, reports[task.task_id], closed_at, period, rules)
    start = day_start(period.start, rules)
    marks = [
        Mark(task_id=m.task_id, unit_id=m.unit_id, message=m.message, raised_on=rules.day(m.raised_at))
        for m in conn.execute(
            select(_MARKS).where(_MARKS.c.raised_at >= start, _MARKS.c.raised_at < end, _MARKS.c.task_id.in_(ids))
        )
    ]
    unit_ids = {u for t in tasks for u in t.host_unit_ids} | {m.unit_id for m in marks}
    return AsOf(judged, due, marks, unit_ids)


def _existed(row: Any, end: date) -> bool:
    """A task assigned after the period's end was not there to be judged in it."""
    return row["assigned_on"] is None or row["assigned_on"] <= end


def _by_task(conn: Connection, table: Any, ids: list[str], *where: Any) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = defaultdict(list)
    if ids:
        for row in conn.execute(select(table).where(table.c.task_id.in_(ids), *where)):
            found[row.task_id].append(row)
    return found


def _rewind(
    task: Any,
    reports: list[Any],
    closed_at: datetime | None,
    extended: list[Any],
    receipts: list[Any],
    end: datetime,
    rules: Rules,
) -> None:
    """Put back into `task` what it was at `end`: completion, reports, 办结, due date, 签收."""
    latest: dict[str, Any] = {}
    for report in reports:
        mine = latest.get(report.unit_id)
        if mine is None or report_rank(report) > report_rank(mine):
            latest[report.unit_id] = report
    task.percent = task_completion(task, latest)
    kind = rules.period_kind(task)
    ends = [found.end for r in reports if (found := _period(kind, r.period))]
    task.reported_through = max(ends, default=None)
    task.closeout_state = "closed" if closed_at else ""
    if extended:
        task.due_date = min(extended, key=lambda e: e.decided_at).previous_due_date
    pending = [r.assigned_on for r in receipts if r.unit_id in task.host_unit_ids and not _signed(r, end)]
    task.unacknowledged_since = min(pending, default=None)


@lru_cache(maxsize=4096)  # a bulletin asks it of every report of the notice: a few dozen labels
def _period(kind: str, label: str | None) -> Period | None:
    """The reporting period a report's label names, in the notice's kind; None for another kind's label."""
    try:
        return periods.parse_period(kind, label or "")
    except ValueError:
        return None


def _signed(receipt: Any, end: datetime) -> bool:
    return receipt.acknowledged_at is not None and receipt.acknowledged_at < end


def _as_of(task: Any, closed_at: datetime | None, period: Period, rules: Rules) -> TaskAsOf:
    closed_on = rules.day(closed_at) if closed_at else None
    due = task.due_date
    return TaskAsOf(
        task_id=task.task_id,
        doc_no=task.doc_no,
        number=task.number,
        text=task.text,
        leaders=tuple(task.leaders),
        host_unit_ids=tuple(task.host_unit_ids),
        flag=task.flag,
        rule=task.rule,
        reason=task.reason,
        percent=task.percent,
        expected_percent=task.expected_percent,
        overdue=task.overdue,
        closed=closed_on is not None,
        closed_on_time=closed_on is not None and (due is None or closed_on <= due),
        due_date=due,
        due_by_end=closed_on is not None or (due is not None and due <= period.end),
    )


def _due_reports(
    task: Any, reports: list[Any], closed_at: datetime | None, period: Period, rules: Rules
) -> list[DueReport]:
    """The host units' reports whose deadline falls in `period`, each on time, late or missing.

    A report for a reporting period, or for any later one, covers it (as the flag rule counts
    missed periods); it is on time when received by the deadline's China day.
    """
    if task.supervision != "supervised" or not task.host_unit_ids:
        return []
    kind = rules.period_kind(task)
    since = task.assigned_on or start_date(task)
    first = periods.first_period_day(kind, task.supervision_start)
    since = max(filter(None, (since, first)), default=None)
    if since is None:
        return []
    closed_on = rules.day(closed_at) if closed_at else None
    received: dict[str, list[tuple[date, date]]] = defaultdict(list)
    for report in reports:
        if found := _period(kind, report.period):
            received[report.unit_id].append((found.start, rules.day(report.received_at)))
    found = []
    reporting = periods.period_containing(kind, since)
    while (deadline := reporting.end + timedelta(days=rules.grace_days)) <= period.end:
        if deadline >= period.start and (closed_on is None or closed_on > deadline):
            for unit_id in dict.fromkeys(task.host_unit_ids):
                days = [day for start, day in received[unit_id] if start >= reporting.start]
                state = "missing" if not days else "on_time" if min(days) <= deadline else "late"
                found.append(DueReport(unit_id, task.task_id, reporting.label, deadline, state))
        reporting = periods.next_period(reporting)
    return found
