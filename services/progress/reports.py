"""Recording a unit's progress report: validated, authorised, durable with its events, idempotent."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from proto.progress import ProgressReported
from proto.subjects import Subjects
from services.common import periods
from services.common.errors import ApiError
from services.common.identity import AuthToken, Principal, token_invalid
from services.common.outbox import outbox_row, stage_rows
from services.common.prepared import Prepared
from services.progress.flags import completion_from_quantities
from services.progress.models import ProgressReport, ProgressTask, UnitLatest
from services.progress.rollups import Deltas, add_delta, apply_rollups
from services.progress.schemas import ReportAccepted, ReportIn
from services.progress.staleness import similarity
from services.progress.status import Rules, rejudge, status_event
from services.progress.units import unit_names


def task_or_404(session: Session, task_id: str, *, lock: bool = False) -> ProgressTask:
    task = session.get(ProgressTask, task_id, with_for_update=lock)
    if task is None or task.removed:
        raise task_not_found(task_id)
    return task


def task_not_found(task_id: str) -> ApiError:
    return ApiError(404, "task_not_found", f"未找到任务 {task_id}", f"task {task_id} not found")


def idempotency_key(value: str | None, limit: int) -> str | None:
    """The request's Idempotency-Key header, refused (422) when longer than `limit` characters."""
    if value is not None and len(value) > limit:
        raise ApiError(
            422,
            "idempotency_key_too_long",
            f"Idempotency-Key 过长：最多 {limit} 个字符",
            f"the Idempotency-Key is longer than {limit} characters",
        )
    return value or None


def _key_reused() -> ApiError:
    return ApiError(
        409,
        "idempotency_key_reused",
        "该 Idempotency-Key 已用于另一份不同的填报",
        "this Idempotency-Key was used for a different report",
    )


def _too_long(rules: Rules) -> ApiError:
    return ApiError(
        413,
        "narrative_too_long",
        f"工作进展超过 {rules.max_narrative_chars} 字上限",
        f"the narrative is longer than {rules.max_narrative_chars} characters",
    )


def _closed() -> ApiError:
    return ApiError(
        409, "task_closed", "任务已办结，无需再填报进展", "the task is closed; no more reports are expected"
    )


def authorise_unit(principal: Principal, task: Any, *, host_only: bool = False) -> str:
    """The principal's unit id, if that unit is responsible for the task; 403 otherwise."""
    if principal.role != "unit" or principal.unit_id is None:
        raise ApiError(403, "unit_token_required", "此操作须使用承办单位的令牌", "this needs a unit's token")
    allowed = task.host_unit_ids if host_only else [*task.host_unit_ids, *task.co_unit_ids]
    if principal.unit_id not in allowed:
        what_zh, what_en = ("主办单位", "a host unit") if host_only else ("主办或协办单位", "a host or co-unit")
        raise ApiError(
            403,
            "unit_not_responsible",
            f"本单位不是任务 {task.task_id} 的{what_zh}",
            f"your unit is not {what_en} of task {task.task_id}",
        )
    return principal.unit_id


def _request_hash(task_id: str, report: ReportIn) -> str:
    return hashlib.sha256(f"{task_id}|{report.model_dump_json()}".encode()).hexdigest()


def _replay(session: Session, unit_id: str, key: str, request_hash: str) -> ReportAccepted | None:
    earlier = session.exec(
        select(ProgressReport).where(ProgressReport.unit_id == unit_id, ProgressReport.idempotency_key == key)
    ).first()
    if earlier is None:
        return None
    if earlier.request_hash != request_hash:
        raise _key_reused()
    return ReportAccepted.model_validate(earlier.answer)


def _period(task: Any, label: str | None, today: date, rules: Rules) -> periods.Period:
    kind = rules.period_kind(task)
    if label is None:
        return periods.period_containing(kind, today)
    try:
        period = periods.parse_period(kind, label)
    except ValueError:
        example = periods.EXAMPLES[kind]
        raise ApiError(
            422,
            "period_invalid",
            f"填报周期 {label} 格式不对，本通知按{ {'month': '月', 'xun': '旬', 'week': '周'}[kind] }填报，例如 {example}",
            f"period {label} is not a {kind} period like {example}",
        ) from None
    if period.start > today:
        raise ApiError(422, "period_in_future", f"填报周期 {label} 尚未开始", f"period {label} has not started")
    return period


def _quantity_values(task: Any, report: ReportIn) -> dict[int, float]:
    values: dict[int, float] = {}
    for key, value in report.quantities.items():
        index = int(key) if key.isdigit() else -1
        if not 0 <= index < len(task.quantities):
            raise ApiError(
                422,
                "unknown_quantity",
                f"任务没有编号为 {key} 的目标（共 {len(task.quantities)} 项，编号从 0 开始）",
                f"the task has no quantity {key} (it has {len(task.quantities)}, indexed from 0)",
            )
        values[index] = value
    return values


@dataclass
class Submission:
    """One POST of a report, authenticated, waiting to be recorded."""

    principal: Principal
    task_id: str
    report: ReportIn
    idempotency_key: str | None
    now: datetime


Outcome = tuple[ReportAccepted, bool] | ApiError

_REPORTS = ProgressReport.__table__  # type: ignore[attr-defined]
_TASKS = ProgressTask.__table__  # type: ignore[attr-defined]
_LATEST = UnitLatest.__table__  # type: ignore[attr-defined]
_TOKENS = AuthToken.__table__  # type: ignore[attr-defined]
# What recording a report can change on its task.
_TASK_CHANGES = (
    "achieved",
    "percent",
    "reported_through",
    "last_report_at",
    "report_count",
    "latest_report_id",
    "latest_unit",
    "latest_period",
    "latest_narrative",
    "stale",
    "expected_percent",
    "reason",
    "rule",
    "missed_periods",
    "overdue",
    "flag",
    "rollup",
    "judge_on",
)


def report_rank(row: Any) -> tuple[date, datetime]:
    """How a unit's latest report ranks: by its period, then by arrival (a correction of the same period)."""
    at = row.received_at
    return periods.start_of(row.period) or date.min, at if at.tzinfo else at.replace(tzinfo=UTC)


def _shown(task: Any, latest: dict[str, Any]) -> Any:
    """The report that stands for the task (the ledger's 最新进展): the host units' latest, as for completion."""
    hosts = [latest[u] for u in task.host_unit_ids if u in latest]
    return max(hosts or latest.values(), key=report_rank)


def task_completion(task: Any, latest: dict[str, Any]) -> float:
    """Mean of the host units' latest completions; co-units count only while no host has reported."""
    hosts = [latest[u].completion for u in task.host_unit_ids if u in latest]
    counted = hosts or [row.completion for row in latest.values()]
    return round(sum(counted) / len(counted), 1) if counted else 0.0


# The batch's statements, compiled once per dialect and run on the DBAPI cursor (`Prepared`): a
# batch of a few reports spent half its CPU in SQLAlchemy's per-execution machinery. The lists go
# in as expanding parameters.
_Q_ACTIVE_TOKENS = Prepared(
    select(_TOKENS.c.token_id).where(
        _TOKENS.c.token_id.in_(bindparam("ids", expanding=True)), _TOKENS.c.revoked_at.is_(None)
    )
)
# Both columns of the (unit_id, idempotency_key) unique index, so the lookup is an index search,
# not a scan of every report ever made; pairs across units are filtered out after.
_Q_EARLIER = Prepared(
    select(_REPORTS.c.unit_id, _REPORTS.c.idempotency_key, _REPORTS.c.request_hash, _REPORTS.c.answer).where(
        _REPORTS.c.unit_id.in_(bindparam("units", expanding=True)),
        _REPORTS.c.idempotency_key.in_(bindparam("keys", expanding=True)),
    )
)
_Q_TASKS = Prepared(
    (
        select(_TASKS).where(_TASKS.c.task_id.in_(bindparam("ids", expanding=True))).order_by(_TASKS.c.task_id)
    ).with_for_update()
)
_Q_LATEST = Prepared(select(_LATEST).where(_LATEST.c.task_id.in_(bindparam("ids", expanding=True))))
_INSERT_REPORTS = Prepared(insert(_REPORTS))
_INSERT_LATEST = Prepared(insert(_LATEST))
_LATEST_COLUMNS = [c.name for c in _LATEST.columns]
_LATEST_VALUES = [c for c in _LATEST_COLUMNS if c not in ("task_id", "unit_id")]
_UPDATE_LATEST = Prepared(
    update(_LATEST)
    .where(_LATEST.c.task_id == bindparam("k_task"), _LATEST.c.unit_id == bindparam("k_unit"))
    .values({c: bindparam(c) for c in _LATEST_VALUES})
)
_UPDATE_TASKS = Prepared(
    update(_TASKS).where(_TASKS.c.task_id == bindparam("k_task")).values({c: bindparam(c) for c in _TASK_CHANGES})
)


def record_reports(
    *,
    session: Session,
    subjects: Subjects,
    items: Sequence[Submission],
    rules: Rules,
    verify_tokens: bool = False,
) -> list[Outcome]:
    """Record a batch of reports with their events in one transaction; one outcome per item, in order.

    Every check runs before anything is written, so a refused report (its own 4xx in its own
    outcome) leaves no trace and does not disturb the others. The report rows, the task status,
    each unit's latest report, the roll-ups and the outbox are written with a few bulk statements;
    the caller commits once, and only then may any report be answered. A retry with an
    Idempotency-Key, even one in the same batch, gets the first answer. With `verify_tokens`, each
    token is checked again inside the transaction, so a token revoked by another process since it
    was cached is refused.
    """
    outcomes: list[Outcome | None] = [None] * len(items)
    # Core statements on the session's connection (same transaction): the ORM's execute path adds
    # nothing for plain table statements but its own CPU.
    conn = session.connection()
    hashes = [_request_hash(item.task_id, item.report) for item in items]

    active: set[str] | None = None
    if verify_tokens:
        token_ids = {item.principal.token_id for item in items}
        active = {token_id for (token_id,) in _Q_ACTIVE_TOKENS.rows(conn, {"ids": sorted(token_ids)})}
    keyed = {(item.principal.unit_id, item.idempotency_key) for item in items if item.idempotency_key}
    keyed = {(unit_id, key) for unit_id, key in keyed if unit_id}
    earlier: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
    if keyed:
        units, keys = sorted({u for u, _k in keyed}), sorted({k for _u, k in keyed})
        for unit_id, key, request_hash, answer in _Q_EARLIER.rows(conn, {"units": units, "keys": keys}):
            if (unit_id, key) in keyed:
                earlier[(unit_id, key)] = (request_hash, answer)
    task_ids = {item.task_id for item in items}
    tasks: dict[str, Any] = {}
    for row in _Q_TASKS.mappings(conn, {"ids": sorted(task_ids)}):
        tasks[row["task_id"]] = SimpleNamespace(**row)
    latest: dict[str, dict[str, Any]] = {tid: {} for tid in tasks}
    if tasks:
        for row in _Q_LATEST.mappings(conn, {"ids": sorted(tasks)}):
            latest[row["task_id"]][row["unit_id"]] = SimpleNamespace(**row, new=False, dirty=False)
    unit_ids = {item.principal.unit_id for item in items if item.principal.unit_id}
    for task in tasks.values():
        unit_ids.update(task.host_unit_ids)
    names = unit_names(conn, unit_ids)

    report_rows: list[dict[str, Any]] = []
    outbox: list[dict[str, Any]] = []
    touched: dict[str, Any] = {}
    pending: Deltas = {}
    for index, item in enumerate(items):
        try:
            if active is not None and item.principal.token_id not in active:
                raise token_invalid()
            outcomes[index] = _record_one(
                item=item,
                request_hash=hashes[index],
                earlier=earlier,
                task=tasks.get(item.task_id),
                latest=latest,
                names=names,
                rules=rules,
                subjects=subjects,
                report_rows=report_rows,
                outbox=outbox,
                pending=pending,
            )
        except ApiError as exc:
            outcomes[index] = exc
            continue
        touched[item.task_id] = tasks[item.task_id]

    if report_rows:
        _INSERT_REPORTS.run(conn, report_rows)
        fresh = [vars(r) for rows in latest.values() for r in rows.values() if r.new]
        changed = [vars(r) for rows in latest.values() for r in rows.values() if not r.new and r.dirty]
        if fresh:
            _INSERT_LATEST.run(conn, [{c: r[c] for c in _LATEST_COLUMNS} for r in fresh])
        if changed:
            _UPDATE_LATEST.run(
                conn,
                [{"k_task": r["task_id"], "k_unit": r["unit_id"]} | {c: r[c] for c in _LATEST_VALUES} for r in changed],
            )
        _UPDATE_TASKS.run(
            conn,
            [{"k_task": t.task_id} | {c: getattr(t, c) for c in _TASK_CHANGES} for t in touched.values()],
        )
        stage_rows(session, outbox)
        apply_rollups(session, pending, names)
    return [o for o in outcomes if o is not None]


def _record_one(
    *,
    item: Submission,
    request_hash: str,
    earlier: dict[tuple[str, str], tuple[str, dict[str, Any]]],
    task: Any,
    latest: dict[str, dict[str, Any]],
    names: dict[str, str],
    rules: Rules,
    subjects: Subjects,
    report_rows: list[dict[str, Any]],
    outbox: list[dict[str, Any]],
    pending: Deltas,
) -> tuple[ReportAccepted, bool]:
    """Check one report against the batch's state so far, then add its rows; raises ApiError before any change."""
    principal, report, task_id, now = item.principal, item.report, item.task_id, item.now
    key = item.idempotency_key
    if key and principal.unit_id:
        first = earlier.get((principal.unit_id, key))
        if first is not None:
            if first[0] != request_hash:
                raise _key_reused()
            return ReportAccepted.model_validate(first[1]), False
    if len(report.narrative) > rules.max_narrative_chars:
        raise _too_long(rules)
    if task is None or task.removed:
        raise task_not_found(task_id)
    unit_id = authorise_unit(principal, task)
    if task.closeout_state == "closed":
        raise _closed()
    today = rules.day(now)  # the government's date, not UTC's: 00:30 on the 1st is the new month
    period = _period(task, report.period, today, rules)
    values = _quantity_values(task, report)

    mine = latest[task_id].get(unit_id)
    # A report for a period before the unit's latest one (filed late, or arriving late) is kept
    # and published, but the later period stands: it changes neither the unit's latest report
    # nor, when an other unit has reported a later period, the task's quantities.
    late = mine is not None and (periods.start_of(mine.period) or date.min) > period.start
    achieved = {int(k): v for k, v in task.achieved.items()} | values
    if values:
        targets = [float(q.get("value") or 0) for q in task.quantities]
        completion = completion_from_quantities(targets, achieved)
    else:
        completion = round(report.percent, 1)

    baseline = None
    if mine is not None and not late:  # a late report's previous period is not at hand: not judged
        baseline = mine.previous_narrative if mine.period == period.label else mine.narrative
    score = similarity(report.narrative, baseline) if baseline and report.narrative else None
    stale = score is not None and score >= rules.stale_similarity

    report_id = uuid.uuid4().hex
    unit = names.get(unit_id, unit_id)
    if not late:
        _replace_latest(latest[task_id], mine, task_id, unit_id, report_id, completion, period.label, report, now)
    if task.reported_through is None or period.end >= task.reported_through:
        task.achieved = {str(k): v for k, v in achieved.items()}
    task.percent = task_completion(task, latest[task_id])
    task.reported_through = max(filter(None, (task.reported_through, period.end)))
    task.last_report_at = now
    task.report_count += 1
    shown = _shown(task, latest[task_id])
    if shown.report_id == report_id:
        task.latest_report_id, task.latest_unit, task.latest_period = report_id, unit, period.label
        task.latest_narrative, task.stale = report.narrative, stale
    elif shown.report_id != task.latest_report_id:  # a task last shown by the older rule (last arrival)
        task.latest_report_id, task.latest_period = shown.report_id, shown.period
        task.latest_unit = names.get(shown.unit_id, shown.unit_id)
        task.latest_narrative, task.stale = shown.narrative, False
    quantities = {str(k): v for k, v in values.items()}
    reported = ProgressReported(
        source="progress",
        occurred_at=now,
        report_id=report_id,
        task_id=task_id,
        unit=unit,
        unit_id=unit_id,
        period=period.label,
        percent=report.percent,
        completion=completion,
        narrative=report.narrative,
        quantities=quantities,
        stale=stale,
    )
    outbox.append(outbox_row(subjects.progress_reported, reported))
    old, verdict = rejudge(task, today, rules)
    add_delta(pending, task)
    if verdict.flag != old:
        outbox.append(
            outbox_row(
                subjects.status_changed,
                status_event(
                    task=task,
                    old=old,
                    verdict=verdict,
                    names=names,
                    cause=report_id,
                    period_kind=rules.period_kind(task),
                ),
            )
        )
    answer = ReportAccepted(
        report_id=report_id,
        task_id=task_id,
        unit_id=unit_id,
        period=period.label,
        completion=completion,
        stale=stale,
        flag=task.flag,
        percent=task.percent,
        expected_percent=task.expected_percent,
        reason=task.reason,
    )
    dumped = answer.model_dump(mode="json")
    report_rows.append(
        {
            "report_id": report_id,
            "task_id": task_id,
            "unit_id": unit_id,
            "unit": unit,
            "period": period.label,
            "percent": report.percent,
            "completion": completion,
            "narrative": report.narrative,
            "issues": report.issues,
            "next_steps": report.next_steps,
            "quantities": quantities,
            "links": list(report.links),
            "stale": stale,
            "similarity": round(score, 3) if score is not None else None,
            "idempotency_key": key,
            "request_hash": request_hash,
            "answer": dumped,
            "received_at": now,
            "token_id": item.principal.token_id,
        }
    )
    if key:
        earlier[(unit_id, key)] = (request_hash, dumped)
    return answer, True


def _replace_latest(
    rows: dict[str, Any],
    mine: Any,
    task_id: str,
    unit_id: str,
    report_id: str,
    completion: float,
    label: str,
    report: ReportIn,
    now: datetime,
) -> None:
    """Make this report the unit's latest on the task; the narrative it replaces becomes the previous period's."""
    if mine is None:
        mine = rows[unit_id] = SimpleNamespace(
            task_id=task_id, unit_id=unit_id, previous_narrative="", period=None, narrative="", new=True
        )
    elif mine.period != label:
        mine.previous_narrative = mine.narrative
    mine.report_id, mine.completion, mine.period = report_id, completion, label
    mine.narrative, mine.received_at, mine.dirty = report.narrative, now, True


def record_report(
    *,
    session: Session,
    subjects: Subjects,
    principal: Principal,
    task_id: str,
    report: ReportIn,
    idempotency_key: str | None,
    now: datetime,
    rules: Rules,
    verify_tokens: bool = False,
) -> tuple[ReportAccepted, bool]:
    """Record one report with its events in one transaction; returns the answer and whether it is new.

    The report row, the status read model and the outbox commit together, so a 2xx means the
    report survives any crash. A retry with the same Idempotency-Key gets the first answer.
    """
    item = Submission(principal, task_id, report, idempotency_key, now)
    try:
        [outcome] = record_reports(
            session=session, subjects=subjects, items=[item], rules=rules, verify_tokens=verify_tokens
        )
        if isinstance(outcome, ApiError):
            raise outcome
        session.commit()
    except IntegrityError:
        # Two retries with one key raced (another process on PostgreSQL); the loser answers with the winner's report.
        session.rollback()
        if not idempotency_key or not principal.unit_id:
            raise
        replay = _replay(session, principal.unit_id, idempotency_key, _request_hash(task_id, report))
        if replay is None:
            raise
        return replay, False
    finally:
        # The rows were written with SQL, not through the session's objects: none it holds may be trusted.
        session.expire_all()
    return outcome
