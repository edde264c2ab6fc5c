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
from sqlmodel import Session

from services.common.clock import local_date
from services.common.errors import ApiError
from services.common.identity import Principal
from services.common.prepared import Prepared
from services.progress import bulletin_periods, bulletins
from services.progress.bulletin_figures import Options
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


def _unknown_dimension(by: str, allowed: tuple[str, ...]) -> ApiError | None:
    if by in allowed:
        return None
    return ApiError(422, "rollup_unknown", f"by 只能是 {'、'.join(allowed)}", f"by must be one of {', '.join(allowed)}")


def rollups(*, conn: Connection, by: str, notice: str | list[str] | None = None) -> RollupsPublic:
    """Roll-ups by `by`; with `notice` (a 文号 or id, or several), of those notices' tasks only."""
    if error := _unknown_dimension(by, DIMENSIONS):
        raise error
    notices = [notice] if isinstance(notice, str) else list(notice or [])
    if notices:
        rows = _notice_rollups(conn, by, notices)
    else:
        rows = [_row(key, name, counts, tenths) for key, name, *counts, tenths in conn.execute(_Q_ROLLUPS, {"by": by})]
    one = notices[0] if len(notices) == 1 else None
    return RollupsPublic.model_validate({"by": by, "notice": one, "notices": notices, "data": rows, "count": len(rows)})


def _notice_rollups(conn: Connection, by: str, notices: list[str]) -> list[dict[str, Any]]:
    """The roll-ups of some notices' tasks, counted from them; a notice named twice (文号 and id) counts once.

    The stored roll-ups are keyed by unit, leader, chapter or notice alone: keying them by notice
    too would double the rows every report updates, on the hottest path, for a read that a
    notice's few hundred (at most a few thousand) task rows answer in milliseconds.
    """
    tasks: list[Any] = []
    counted: set[str] = set()
    for notice in dict.fromkeys(notices):
        found = [SimpleNamespace(**row) for row in _Q_NOTICE_TASKS.mappings(conn, {"notice": notice})]
        if not found:
            raise ApiError(404, "notice_not_found", f"未找到通知 {notice} 的任务", f"no tasks of notice {notice}")
        if found[0].doc_no not in counted:
            counted.add(found[0].doc_no)
            tasks += found
    counts = {key: delta for (dim, key), delta in tally(tasks).items() if dim == by and delta["total"] > 0}
    names = unit_names(conn, counts) if by == "unit" else {}
    return [
        _row(key, label(by, key, names), [counts[key][c] for c in _ROLLUP_COUNTS], counts[key]["completion_tenths"])
        for key in sorted(counts)
    ]


_PERIOD_FIELDS = ("total", "blue", "yellow", "red", "closed", "overdue", "average_completion")


def period_rollups(
    *,
    session: Session,
    by: str,
    notices: list[str],
    period: str | None,
    sort: str,
    today: date,
    rules: Rules,
    options: Options,
) -> RollupsPublic:
    """Roll-ups by unit or leader as of a period's end, counted as a bulletin counts them.

    Without `period`, the last whole month. By unit, each row has its ranking score and rank;
    `sort=score` orders them by it (best first), else rows are by key as always.
    """
    if error := _unknown_dimension(by, ("unit", "leader")):
        raise error
    if sort == "score" and by != "unit":
        raise ApiError(
            422, "rollup_sort_unknown", "只有按单位（by=unit）可按得分排序", "sort=score is for by=unit only"
        )
    doc_nos = bulletins.resolve_notices(session, notices) if notices else bulletins.supervised_notices(session)
    if period is None:
        chosen = bulletin_periods.previous("month", today)
    else:
        chosen = bulletins.period_of(label=period, start=None, end=None, today=today)
    figures = bulletins.count(session, doc_nos=doc_nos, period=chosen, rules=rules, options=options)
    source = figures["units"] if by == "unit" else figures["leaders"]
    rows = [
        {"key": r["key"], "label": r["name"], **{k: r[k] for k in _PERIOD_FIELDS}}
        | {k: r.get(k) for k in ("on_time_rate", "completion_rate", "score", "rank")}
        for r in source
    ]
    if sort != "score":
        rows.sort(key=lambda r: r["key"])
    one = notices[0] if len(notices) == 1 else None
    return RollupsPublic.model_validate(
        {"by": by, "notice": one, "notices": notices, "period": chosen.label, "data": rows, "count": len(rows)}
    )
