"""The figures of a bulletin's sections, from the tasks and reports as they stood at the period's end. Pure.

The input is what `bulletin_asof` reads: each task judged as of the period's last day, and each
report that was due in the period (a host unit's report for a reporting period whose deadline,
its end plus the grace days, falls in the bulletin's period) with whether it came in on time,
late (after the deadline, by the period's end) or not at all. The same input gives the same
figures, so a bulletin made twice for one period says the same thing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from services.progress import ranking

FLAGS = ("blue", "yellow", "red")
TEXT_CHARS = 60


@dataclass(frozen=True)
class TaskAsOf:
    task_id: str
    doc_no: str
    number: int
    text: str
    leaders: tuple[str, ...]
    host_unit_ids: tuple[str, ...]
    flag: str
    rule: str
    reason: str
    percent: float
    expected_percent: float
    overdue: bool
    closed: bool
    closed_on_time: bool
    due_date: date | None
    due_by_end: bool  # due by the period's end, or closed by then: what "closed on time" is out of


@dataclass(frozen=True)
class DueReport:
    unit_id: str
    task_id: str
    period: str
    deadline: date
    state: str  # on_time, late or missing


@dataclass(frozen=True)
class Mark:
    task_id: str
    unit_id: str
    message: str
    raised_on: date


@dataclass(frozen=True)
class Options:
    weights: Mapping[str, float]
    top: int = 3
    honour_roll: bool = False


def reason_zh(reason: str) -> str:
    """The Chinese half of a bilingual reason (`中文 / English`)."""
    return reason.split(" / ", 1)[0]


def _rate(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _ref(task: TaskAsOf, names: Mapping[str, str]) -> dict[str, Any]:
    text = task.text if len(task.text) <= TEXT_CHARS else task.text[: TEXT_CHARS - 1] + "…"
    return {
        "task_id": task.task_id,
        "doc_no": task.doc_no,
        "number": task.number,
        "text": text,
        "host_units": [names.get(u, u) for u in task.host_unit_ids],
        "leaders": list(task.leaders),
    }


def _counts(tasks: Iterable[TaskAsOf]) -> dict[str, int]:
    counts = dict.fromkeys(("total", *FLAGS, "closed", "closed_on_time", "overdue", "due_by_end"), 0)
    for task in tasks:
        counts["total"] += 1
        counts[task.flag] += 1
        counts["closed"] += task.closed
        counts["closed_on_time"] += task.closed_on_time
        counts["overdue"] += task.overdue
        counts["due_by_end"] += task.due_by_end
    return counts


def _reporting(due: Iterable[DueReport]) -> dict[str, int]:
    tally = {"due": 0, "on_time": 0, "late": 0, "missing": 0}
    for item in due:
        tally["due"] += 1
        tally[item.state] += 1
    return tally


def _group_row(key: str, name: str, tasks: Sequence[TaskAsOf], due: Sequence[DueReport]) -> dict[str, Any]:
    counts, reporting = _counts(tasks), _reporting(due)
    return {
        "key": key,
        "name": name,
        **{k: counts[k] for k in ("total", *FLAGS, "closed", "overdue")},
        **{f"reports_{k}": v for k, v in reporting.items()},
        "on_time_rate": _rate(reporting["on_time"], reporting["due"]),
        "completion_rate": _rate(counts["closed"], counts["total"]),
        "average_completion": round(sum(t.percent for t in tasks) / len(tasks), 1) if tasks else 0.0,
        "_counts": counts,
    }


def _scored(row: dict[str, Any], weights: Mapping[str, float]) -> dict[str, Any]:
    counts = row.pop("_counts")
    parts = ranking.Parts(
        on_time=ranking.ratio(row["reports_on_time"], row["reports_due"]),
        flag_mix=ranking.flag_mix(counts["blue"], counts["yellow"], counts["total"]),
        closed_on_time=ranking.ratio(counts["closed_on_time"], counts["due_by_end"]),
    )
    return {**row, "score": ranking.score(parts, weights)}


def by_unit(
    tasks: Sequence[TaskAsOf], due: Sequence[DueReport], names: Mapping[str, str], weights: Mapping[str, float]
) -> list[dict[str, Any]]:
    """One row per host unit, ranked by score (best first)."""
    hosted: dict[str, list[TaskAsOf]] = defaultdict(list)
    for task in tasks:
        for unit_id in dict.fromkeys(task.host_unit_ids):
            hosted[unit_id].append(task)
    owed: dict[str, list[DueReport]] = defaultdict(list)
    for item in due:
        owed[item.unit_id].append(item)
    rows = [_scored(_group_row(u, names.get(u, u), hosted[u], owed[u]), weights) for u in hosted]
    return ranking.rank(rows)


def by_leader(tasks: Sequence[TaskAsOf], due: Sequence[DueReport]) -> list[dict[str, Any]]:
    """One row per lead leader, by name: the tasks they lead and the reports due on them."""
    led: dict[str, list[TaskAsOf]] = defaultdict(list)
    for task in tasks:
        for leader in dict.fromkeys(task.leaders):
            led[leader].append(task)
    owed: dict[str, list[DueReport]] = defaultdict(list)
    for item in due:
        owed[item.task_id].append(item)
    rows = []
    for leader in sorted(led):
        row = _group_row(leader, leader, led[leader], [d for t in led[leader] for d in owed[t.task_id]])
        row.pop("_counts")
        rows.append(row)
    return rows


def changes(
    tasks: Sequence[TaskAsOf], previous: Mapping[str, Mapping[str, Any]] | None, names: Mapping[str, str]
) -> dict[str, Any] | None:
    """What moved since the previous bulletin's frozen task flags; None when there is no previous bulletin."""
    if previous is None:
        return None
    turned_red, recovered, closed = [], [], []
    for task in tasks:
        before = previous.get(task.task_id)
        if before is None:
            continue
        if task.flag == "red" and before["flag"] != "red":
            turned_red.append(_ref(task, names) | {"was": before["flag"], "reason": reason_zh(task.reason)})
        if task.closed and not before["closed"]:
            closed.append(_ref(task, names))
        elif task.flag == "blue" and before["flag"] != "blue":
            recovered.append(_ref(task, names) | {"was": before["flag"]})
    return {"turned_red": turned_red, "recovered": recovered, "closed": closed}


def flagged(tasks: Sequence[TaskAsOf], names: Mapping[str, str]) -> list[dict[str, Any]]:
    """The red tasks, then the yellow ones, each by notice and number, with their reasons in figures."""
    order = {"red": 0, "yellow": 1}
    chosen = sorted((t for t in tasks if t.flag in order), key=lambda t: (order[t.flag], t.doc_no, t.number))
    return [
        _ref(t, names)
        | {
            "flag": t.flag,
            "reason": reason_zh(t.reason),
            "percent": t.percent,
            "expected_percent": t.expected_percent,
            "due_date": t.due_date.isoformat() if t.due_date else None,
        }
        for t in chosen
    ]


def not_reported(due: Sequence[DueReport], tasks: Sequence[TaskAsOf], names: Mapping[str, str]) -> list[dict[str, Any]]:
    """未按时报送单位: the units with a report due in the period that came late or not at all."""
    numbers = {t.task_id: (t.doc_no, t.number) for t in tasks}
    per_unit: dict[str, list[DueReport]] = defaultdict(list)
    for item in due:
        per_unit[item.unit_id].append(item)
    rows = []
    for unit_id, items in per_unit.items():
        tally = _reporting(items)
        if tally["late"] + tally["missing"] == 0:
            continue
        missing = sorted({numbers[d.task_id] for d in items if d.state == "missing" and d.task_id in numbers})
        rows.append(
            {
                "unit_id": unit_id,
                "name": names.get(unit_id, unit_id),
                **tally,
                "missing_tasks": [number for _doc, number in missing],
            }
        )
    return sorted(rows, key=lambda r: (-r["missing"], -r["late"], r["name"]))


def marked(marks: Sequence[Mark], tasks: Sequence[TaskAsOf], names: Mapping[str, str]) -> list[dict[str, Any]]:
    """The tasks the escalation ladder marked for the bulletin (提级督办), one row per task and unit."""
    known = {t.task_id: t for t in tasks}
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for mark in sorted(marks, key=lambda m: (m.raised_on, m.task_id, m.unit_id)):
        task = known.get(mark.task_id)
        if task is None:
            continue
        rows.setdefault(
            (mark.task_id, mark.unit_id),
            _ref(task, names)
            | {
                "unit": names.get(mark.unit_id, mark.unit_id),
                "message": mark.message,
                "raised_on": mark.raised_on.isoformat(),
                "flag": task.flag,
            },
        )
    return sorted(rows.values(), key=lambda r: (r["doc_no"], r["number"], r["unit"]))


def figures(
    *,
    tasks: Sequence[TaskAsOf],
    due: Sequence[DueReport],
    names: Mapping[str, str],
    marks: Sequence[Mark],
    previous: Mapping[str, Any] | None,
    options: Options,
) -> dict[str, Any]:
    """Every section's figures. `previous` is the previous bulletin's `figures` (its `tasks` are compared)."""
    counts = _counts(tasks)
    units = by_unit(tasks, due, names, options.weights)
    top, bottom = ranking.top_and_bottom(units, options.top)
    reporting = _reporting(due)
    return {
        "overall": {
            **{k: counts[k] for k in ("total", *FLAGS, "closed", "overdue")},
            **{f"reports_{k}": v for k, v in reporting.items()},
            "on_time_rate": _rate(reporting["on_time"], reporting["due"]),
            "completion_rate": _rate(counts["closed"], counts["total"]),
        },
        "changes": changes(tasks, previous["tasks"] if previous else None, names),
        "previous": {k: previous.get(k) for k in ("bulletin_id", "doc_no", "period")} if previous else None,
        "units": units,
        "leaders": by_leader(tasks, due),
        "ranking": {
            "weights": dict(options.weights),
            "honour_roll": options.honour_roll,
            "top": top,
            "bottom": bottom,
        },
        "flagged": flagged(tasks, names),
        "not_reported": not_reported(due, tasks, names),
        "marked": marked(marks, tasks, names),
        "tasks": {t.task_id: {"flag": t.flag, "closed": t.closed} for t in tasks},
    }
