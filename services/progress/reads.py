"""What the status endpoints read: one task with its history, and the roll-ups.

These are the hottest reads of the service (a dashboard polls them), so they run `Prepared`
statements and build plain dicts: the ORM's identity map and per-row objects cost more CPU than
the indexed lookups themselves. The caller lends a connection only for the reads' duration, so
a wall of dashboards polling at once never holds more pooled connections than there are threads.
"""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, or_, select
from sqlalchemy.engine import Connection

from services.common.clock import local_date
from services.common.errors import ApiError
from services.common.identity import Principal
from services.common.prepared import Prepared
from services.progress.models import Closeout, Extension, ProgressReport, ProgressTask, Receipt, Rollup, UnitLatest
from services.progress.reports import authorise_unit, task_not_found
from services.progress.rollups import DIMENSIONS, label, tally
from services.progress.schemas import RollupsPublic, TaskStatus
from services.progress.status import Rules, rejudge
from services.progress.units import unit_names

_TASKS = ProgressTask.__table__  # type: ignore[attr-defined]
_REPORTS = ProgressReport.__table__  # type: ignore[attr-defined]
_RECEIPTS = Receipt.__table__  # type: ignore[attr-defined]
_LATEST = UnitLatest.__table__  # type: ignore[attr-defined]
_EXTENSIONS = Extension.__table__  # type: ignore[attr-defined]
_CLOSEOUTS = Closeout.__table__  # type: ignore[attr-defined]
_ROLLUPS = Rollup.__table__  # type: ignore[attr-defined]

# Kept out of the public history: the idempotency bookkeeping.
_REPORT_FIELDS = {"idempotency_key", "request_hash", "answer"}
_TASK_ID = bindparam("task_id")

_Q_TASK = Prepared(select(_TASKS).where(_TASKS.c.task_id == _TASK_ID))
_Q_UNSIGNED = Prepared(
    select(_RECEIPTS.c.unit_id).where(_RECEIPTS.c.task_id == _TASK_ID, _RECEIPTS.c.acknowledged_at.is_(None))
)
_Q_LATEST = Prepared(
    select(_LATEST.c.unit_id, _LATEST.c.report_id, _LATEST.c.completion, _LATEST.c.period, _LATEST.c.received_at).where(
        _LATEST.c.task_id == _TASK_ID
    )
)
_Q_REPORTS = Prepared(
    select(*(c for c in _REPORTS.columns if c.name not in _REPORT_FIELDS))
    .where(_REPORTS.c.task_id == _TASK_ID)
    .order_by(_REPORTS.c.received_at.desc(), _REPORTS.c.report_id)
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
)
_Q_EXTENSIONS = Prepared(
    select(_EXTENSIONS).where(_EXTENSIONS.c.task_id == _TASK_ID).order_by(_EXTENSIONS.c.requested_at)
)
_Q_CLOSEOUTS = Prepared(select(_CLOSEOUTS).where(_CLOSEOUTS.c.task_id == _TASK_ID).order_by(_CLOSEOUTS.c.requested_at))
_ROLLUP_COUNTS = ("total", "blue", "yellow", "red", "closed", "overdue")
_Q_ROLLUPS = (
    select(_ROLLUPS.c.key, _ROLLUPS.c.label, *(_ROLLUPS.c[c] for c in _ROLLUP_COUNTS), _ROLLUPS.c.completion_tenths)
    .where(_ROLLUPS.c.dimension == bindparam("by"), _ROLLUPS.c.total > 0)
    .order_by(_ROLLUPS.c.key)
)


def _rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts: dates as ISO strings, as the history has always been answered."""
    return [{k: v.isoformat() if isinstance(v, date) else v for k, v in row.items()} for row in rows]


def todays_figures(task: Any, today: date, rules: Rules) -> dict[str, Any]:
    """序时进度 and the reason of a stored task as a judgement today would give them."""
    copy = SimpleNamespace(**task)
    _old, verdict = rejudge(copy, today, rules)
    return {"expected_percent": verdict.expected_percent, "reason": verdict.reason}


def task_status(
    *,
    conn: Connection,
    task_id: str,
    today: date,
    zone: ZoneInfo,
    limit: int,
    offset: int,
    viewer: Principal | None = None,
    rules: Rules | None = None,
) -> TaskStatus:
    """A task's status and history; a unit reads only the tasks it hosts or helps with.

    With `rules`, the figures that move every day (序时进度 and the reason) are as of `today`,
    not of the task's last judgement.
    """
    found = _Q_TASK.mappings(conn, {"task_id": task_id})
    task = found[0] if found else None
    if task is None or task["removed"]:
        raise task_not_found(task_id)
    if viewer is not None and viewer.role == "unit":
        authorise_unit(viewer, SimpleNamespace(**task))
    unsigned = [unit_id for (unit_id,) in _Q_UNSIGNED.rows(conn, {"task_id": task_id})]
    if rules is not None:
        task = {**task, **todays_figures(task, today, rules)}
    last = task["last_report_at"]
    return TaskStatus.model_validate(
        {
            **{name: task[name] for name in TaskStatus.model_fields if name in task},
            "days_since_last_report": (today - local_date(last, zone)).days if last else None,
            "unacknowledged": [u for u in unsigned if u in task["host_unit_ids"]],
            "latest_by_unit": _rows(_Q_LATEST.mappings(conn, {"task_id": task_id})),
            "reports": _rows(_Q_REPORTS.mappings(conn, {"task_id": task_id, "limit": limit, "offset": offset})),
            "extensions": _rows(_Q_EXTENSIONS.mappings(conn, {"task_id": task_id})),
            "closeouts": _rows(_Q_CLOSEOUTS.mappings(conn, {"task_id": task_id})),
        }
    )


# What a task contributes to the roll-ups (`rollups.contribution`), for counting one notice afresh.
_Q_NOTICE_TASKS = Prepared(
    select(
        _TASKS.c.removed,
        _TASKS.c.flag,
        _TASKS.c.doc_no,
        _TASKS.c.chapter,
        _TASKS.c.leaders,
        _TASKS.c.host_unit_ids,
        _TASKS.c.percent,
        _TASKS.c.closeout_state,
        _TASKS.c.overdue,
    ).where(
        or_(_TASKS.c.doc_no == bindparam("notice"), _TASKS.c.notice_id == bindparam("notice")),
        _TASKS.c.removed.is_(False),
    )
)


def _row(key: str, name: str, counts: list[int], tenths: int) -> dict[str, Any]:
    return {
        "key": key,
        "label": name,
        **dict(zip(_ROLLUP_COUNTS, counts, strict=True)),
        "average_completion": round(tenths / counts[0] / 10, 1),
    }


def rollups(*, conn: Connection, by: str, notice: str | None = None) -> RollupsPublic:
    """Roll-ups by `by`; with `notice` (its 文号 or id), of that notice's tasks only."""
    if by not in DIMENSIONS:
        raise ApiError(
            422, "rollup_unknown", f"by 只能是 {'、'.join(DIMENSIONS)}", f"by must be one of {', '.join(DIMENSIONS)}"
        )
    if notice:
        rows = _notice_rollups(conn, by, notice)
    else:
        rows = [_row(key, name, counts, tenths) for key, name, *counts, tenths in conn.execute(_Q_ROLLUPS, {"by": by})]
    return RollupsPublic.model_validate({"by": by, "notice": notice, "data": rows, "count": len(rows)})


def _notice_rollups(conn: Connection, by: str, notice: str) -> list[dict[str, Any]]:
    """One notice's roll-ups, counted from its tasks.

    The stored roll-ups are keyed by unit, leader, chapter or notice alone: keying them by notice
    too would double the rows every report updates, on the hottest path, for a read that a
    notice's few hundred (at most a few thousand) task rows answer in milliseconds.
    """
    tasks = [SimpleNamespace(**row) for row in _Q_NOTICE_TASKS.mappings(conn, {"notice": notice})]
    if not tasks:
        raise ApiError(404, "notice_not_found", f"未找到通知 {notice} 的任务", f"no tasks of notice {notice}")
    counts = {key: delta for (dim, key), delta in tally(tasks).items() if dim == by and delta["total"] > 0}
    names = unit_names(conn, counts) if by == "unit" else {}
    return [
        _row(key, label(by, key, names), [counts[key][c] for c in _ROLLUP_COUNTS], counts[key]["completion_tenths"])
        for key in sorted(counts)
    ]
