"""Recording a unit's progress report: validated, authorised, durable with its events, idempotent."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from proto.progress import ProgressReported
from proto.subjects import Subjects
from services.common.errors import ApiError
from services.common.outbox import stage
from services.progress import periods
from services.progress.flags import completion_from_quantities
from services.progress.models import ProgressReport, ProgressTask, UnitLatest
from services.progress.schemas import ReportAccepted, ReportIn
from services.progress.staleness import similarity
from services.progress.status import Rules, commit, refresh, unit_names
from services.progress.tokens import Principal


def task_or_404(session: Session, task_id: str, *, lock: bool = False) -> ProgressTask:
    task = session.get(ProgressTask, task_id, with_for_update=lock)
    if task is None or task.removed:
        raise ApiError(404, "task_not_found", f"未找到任务 {task_id}", f"task {task_id} not found")
    return task


def authorise_unit(principal: Principal, task: ProgressTask, *, host_only: bool = False) -> str:
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
        raise ApiError(
            409,
            "idempotency_key_reused",
            "该 Idempotency-Key 已用于另一份不同的填报",
            "this Idempotency-Key was used for a different report",
        )
    return ReportAccepted.model_validate(earlier.answer)


def _period(task: ProgressTask, label: str | None, now: datetime, rules: Rules) -> periods.Period:
    kind = rules.period_kind(task)
    if label is None:
        return periods.period_containing(kind, now.date())
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
    if period.start > now.date():
        raise ApiError(422, "period_in_future", f"填报周期 {label} 尚未开始", f"period {label} has not started")
    return period


def _quantity_values(task: ProgressTask, report: ReportIn) -> dict[int, float]:
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


def _task_completion(session: Session, task: ProgressTask) -> float:
    """Mean of the host units' latest completions; co-units count only while no host has reported."""
    latest = {
        row.unit_id: row.completion
        for row in session.exec(select(UnitLatest).where(UnitLatest.task_id == task.task_id))
    }
    hosts = [latest[u] for u in task.host_unit_ids if u in latest]
    counted = hosts or list(latest.values())
    return round(sum(counted) / len(counted), 1) if counted else 0.0


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
) -> tuple[ReportAccepted, bool]:
    """Record a report with its events in one transaction; returns the answer and whether it is new.

    The report row, the status read model and the outbox commit together, so a 2xx means the
    report survives any crash. A retry with the same Idempotency-Key gets the first answer.
    """
    request_hash = _request_hash(task_id, report)
    if idempotency_key and principal.unit_id:
        replay = _replay(session, principal.unit_id, idempotency_key, request_hash)
        if replay is not None:
            return replay, False
    if len(report.narrative) > rules.max_narrative_chars:
        raise ApiError(
            413,
            "narrative_too_long",
            f"工作进展超过 {rules.max_narrative_chars} 字上限",
            f"the narrative is longer than {rules.max_narrative_chars} characters",
        )
    task = task_or_404(session, task_id, lock=True)
    unit_id = authorise_unit(principal, task)
    if task.closeout_state == "closed":
        raise ApiError(
            409, "task_closed", "任务已办结，无需再填报进展", "the task is closed; no more reports are expected"
        )
    period = _period(task, report.period, now, rules)
    values = _quantity_values(task, report)

    achieved = {int(k): v for k, v in task.achieved.items()} | values
    if values:
        targets = [float(q.get("value") or 0) for q in task.quantities]
        completion = completion_from_quantities(targets, achieved)
    else:
        completion = round(report.percent, 1)

    latest = session.get(UnitLatest, (task_id, unit_id))
    baseline = None
    if latest is not None:
        baseline = latest.previous_narrative if latest.period == period.label else latest.narrative
    score = similarity(report.narrative, baseline) if baseline and report.narrative else None
    stale = score is not None and score >= rules.stale_similarity

    row = ProgressReport(
        report_id=uuid.uuid4().hex,
        task_id=task_id,
        unit_id=unit_id,
        unit=unit_names(session, [unit_id]).get(unit_id, unit_id),
        period=period.label,
        percent=report.percent,
        completion=completion,
        narrative=report.narrative,
        issues=report.issues,
        next_steps=report.next_steps,
        quantities={str(k): v for k, v in values.items()},
        links=list(report.links),
        stale=stale,
        similarity=round(score, 3) if score is not None else None,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        received_at=now,
    )
    if latest is None:
        latest = UnitLatest(
            task_id=task_id, unit_id=unit_id, report_id=row.report_id, completion=completion, received_at=now
        )
    elif latest.period != period.label:
        latest.previous_narrative = latest.narrative
    latest.report_id, latest.completion, latest.period = row.report_id, completion, period.label
    latest.narrative, latest.received_at = report.narrative, now
    session.add(latest)
    session.flush()

    task.achieved = {str(k): v for k, v in achieved.items()}
    task.percent = _task_completion(session, task)
    task.reported_through = max(filter(None, (task.reported_through, period.end)))
    task.last_report_at = now
    task.report_count += 1
    task.latest_report_id, task.latest_unit, task.latest_period = row.report_id, row.unit, period.label
    task.latest_narrative, task.stale = report.narrative, stale
    session.add(row)
    stage(
        session,
        subjects.progress_reported,
        ProgressReported(
            source="progress",
            occurred_at=now,
            report_id=row.report_id,
            task_id=task_id,
            unit=row.unit,
            unit_id=unit_id,
            period=period.label,
            percent=report.percent,
            completion=completion,
            narrative=report.narrative,
            quantities=row.quantities,
            stale=stale,
        ),
    )
    refresh(session=session, subjects=subjects, task=task, today=now.date(), rules=rules, cause=row.report_id)
    answer = ReportAccepted(
        report_id=row.report_id,
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
    row.answer = answer.model_dump(mode="json")
    try:
        commit(session)
    except IntegrityError:
        # Two retries with one key raced; the loser answers with the winner's report.
        session.rollback()
        if not idempotency_key:
            raise
        replay = _replay(session, unit_id, idempotency_key, request_hash)
        if replay is None:
            raise
        return replay, False
    return answer, True
