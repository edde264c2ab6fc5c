"""Roll-ups by unit, leader, chapter and notice: an incremental read model.

Each task remembers what it last added (`ProgressTask.rollup`); when its flag, completion or
membership changes, the difference is queued on the session and applied just before commit as
atomic `+=` upserts in key order, so concurrent writers on PostgreSQL neither lose updates nor
deadlock on the shared rows. A query reads a few hundred rows, whatever the number of reports.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from services.progress.models import ProgressTask, Rollup
from services.progress.units import unit_names

DIMENSIONS = ("unit", "leader", "chapter", "notice")
COUNTERS = ("total", "blue", "yellow", "red", "closed", "overdue", "completion_tenths")
_PENDING = "progress_rollup_deltas"


def contribution(task: Any) -> dict[str, Any] | None:
    """What one task adds to the roll-ups; None once the notice no longer holds it."""
    if task.removed or not task.flag:
        return None
    keys = [["notice", task.doc_no]]
    if task.chapter:
        keys.append(["chapter", f"{task.doc_no}|{task.chapter}"])
    keys += [["leader", name] for name in dict.fromkeys(task.leaders)]
    keys += [["unit", uid] for uid in dict.fromkeys(task.host_unit_ids)]
    return {
        "keys": keys,
        "flag": task.flag,
        "completion_tenths": round(task.percent * 10),
        "closed": task.closeout_state == "closed",
        "overdue": task.overdue,
    }


Deltas = dict[tuple[str, str], dict[str, int]]


def add_delta(pending: Deltas, task: Any) -> None:
    """Add the change of this task's contribution to `pending` and remember the new one on the task."""
    new = contribution(task)
    old = task.rollup
    if old == new:
        return
    for sign, part in ((-1, old), (1, new)):
        if part is None:
            continue
        for dim, key in part["keys"]:
            delta = pending.get((dim, key))
            if delta is None:
                delta = pending[(dim, key)] = dict.fromkeys(COUNTERS, 0)
            delta["total"] += sign
            delta[part["flag"]] += sign
            delta["closed"] += sign * int(part["closed"])
            delta["overdue"] += sign * int(part["overdue"])
            delta["completion_tenths"] += sign * part["completion_tenths"]
    task.rollup = new


def tally(tasks: Iterable[Any]) -> Deltas:
    """The roll-ups of these tasks alone, counted afresh by the rule the incremental rows follow."""
    counts: Deltas = {}
    for task in tasks:
        task.rollup = None
        add_delta(counts, task)
    return counts


def label(dim: str, key: str, names: dict[str, str]) -> str:
    """What a roll-up row is called: a unit's name, `<文号> 第<chapter>部分`, or the key itself."""
    if dim == "unit":
        return names.get(key, key)
    if dim == "chapter":
        return key.replace("|", " 第", 1) + "部分"
    return key


def stage_rollup(session: Session, task: ProgressTask) -> None:
    """Queue the change of this task's contribution; `flush_rollups` applies it."""
    add_delta(session.info.setdefault(_PENDING, {}), task)


def _labels(
    session: Session, keys: list[tuple[str, str]], names: dict[str, str] | None = None
) -> dict[tuple[str, str], str]:
    unknown = [key for dim, key in keys if dim == "unit" and (names is None or key not in names)]
    if unknown:
        session.flush()  # as the ORM query this lookup replaced did: units this session added count
    names = (names or {}) | unit_names(session.connection(), unknown)
    return {(dim, key): label(dim, key, names) for dim, key in keys}


def flush_rollups(session: Session) -> None:
    apply_rollups(session, session.info.pop(_PENDING, {}))


def apply_rollups(session: Session, pending: Deltas, names: dict[str, str] | None = None) -> None:
    """Apply queued deltas as atomic `+=` upserts, in key order.

    `names` (unit id → name), when the caller has them, spare a lookup of the units' labels.
    """
    changed = sorted(k for k, d in pending.items() if any(d.values()))
    if not changed:
        return
    labels = _labels(session, changed, names)
    conn = session.connection()
    # One statement, many parameter sets: the rows are still updated one by one in key order.
    conn.execute(
        _UPSERTS[conn.dialect.name],
        [{"dimension": dim, "key": key, "label": labels[(dim, key)], **pending[(dim, key)]} for dim, key in changed],
    )


def _upsert(insert: Any) -> Any:
    table = Rollup.__table__  # type: ignore[attr-defined]
    stmt = insert(table)
    return stmt.on_conflict_do_update(
        index_elements=["dimension", "key"],
        set_={"label": stmt.excluded.label, **{c: table.c[c] + stmt.excluded[c] for c in COUNTERS}},
    )


# Built once per dialect: a report batch applies roll-ups every time, and building the statement
# (and its cache key) cost more than running it.
_UPSERTS = {"postgresql": _upsert(pg_insert), "sqlite": _upsert(sqlite_insert)}
