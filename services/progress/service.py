"""Progress: task state from registry events, reports from units, flags from both."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from proto.clock import ClockTicked
from proto.progress import ProgressReported, StatusChanged
from proto.subjects import Subjects
from proto.task import TaskUpserted
from services.common.errors import ApiError
from services.common.inbox import remember, seen
from services.common.outbox import stage
from services.progress.flags import Thresholds, judge
from services.progress.models import ProgressReport, ProgressTask, ReportAccepted, ReportIn

TASK_CONSUMER = "progress-task-upserted"
TICK_CONSUMER = "progress-clock-tick"


def _refresh_flag(
    *, session: Session, subjects: Subjects, task: ProgressTask, today: date, thresholds: Thresholds, cause: str
) -> bool:
    """Re-judge a task and stage `status.changed` when its flag moves. Returns whether it moved."""
    verdict = judge(percent=task.percent, start=task.issued_date, due=task.due_date, today=today, thresholds=thresholds)
    old = task.flag or None
    task.expected_percent = verdict.expected_percent
    task.reason = verdict.reason
    moved = verdict.flag != old
    task.flag = verdict.flag
    session.add(task)
    if moved:
        stage(
            session,
            subjects.status_changed,
            StatusChanged(
                source="progress",
                correlation_id=cause,
                task_id=task.task_id,
                old_flag=old,  # type: ignore[arg-type]
                new_flag=verdict.flag,
                percent=task.percent,
                expected_percent=verdict.expected_percent,
                reason=verdict.reason,
                host_units=task.host_units,
                leaders=task.leaders,
            ),
        )
    return moved


def apply_task_upserted(
    *, session: Session, subjects: Subjects, event: TaskUpserted, today: date, thresholds: Thresholds
) -> None:
    if seen(session, TASK_CONSUMER, event.event_id):
        return
    task = session.get(ProgressTask, event.task_id)
    if task is None or event.version >= task.task_version:
        # A new task has no flag yet, so its first judgement is a change from None.
        task = task or ProgressTask(task_id=event.task_id, key=event.key, doc_no=event.doc_no, text=event.text, flag="")
        task.key, task.doc_no, task.text = event.key, event.doc_no, event.text
        task.leaders = list(event.leaders)
        task.host_units = [u.name for u in event.host_units]
        task.co_units = [u.name for u in event.co_units]
        task.issued_date, task.due_date = event.issued_date, event.due_date
        task.task_version = event.version
        _refresh_flag(
            session=session, subjects=subjects, task=task, today=today, thresholds=thresholds, cause=event.event_id
        )
    remember(session, TASK_CONSUMER, event.event_id)
    session.commit()


def apply_clock_tick(*, session: Session, subjects: Subjects, event: ClockTicked, thresholds: Thresholds) -> int:
    """Time passing can turn a task yellow or red without any report."""
    if seen(session, TICK_CONSUMER, event.event_id):
        return 0
    moved = 0
    for task in session.exec(select(ProgressTask).where(ProgressTask.percent < 100)).all():
        moved += _refresh_flag(
            session=session,
            subjects=subjects,
            task=task,
            today=event.today,
            thresholds=thresholds,
            cause=event.event_id,
        )
    remember(session, TICK_CONSUMER, event.event_id)
    session.commit()
    return moved


def record_report(
    *,
    session: Session,
    subjects: Subjects,
    task_id: str,
    report: ReportIn,
    idempotency_key: str | None,
    today: date,
    thresholds: Thresholds,
    max_narrative_chars: int,
) -> tuple[ReportAccepted, bool]:
    """Record a report durably with its events; returns the answer and whether it is new.

    The report row and its outbox events commit together, so a 2xx means the report survives any
    crash. A retry with the same Idempotency-Key gets the first answer and records nothing.
    """
    if idempotency_key:
        earlier = session.exec(select(ProgressReport).where(ProgressReport.idempotency_key == idempotency_key)).first()
        if earlier is not None:
            if earlier.task_id != task_id:
                raise ApiError(
                    409,
                    "idempotency_key_reused",
                    "该 Idempotency-Key 已用于另一项任务",
                    "this Idempotency-Key was used for another task",
                )
            return _answer(session, earlier), False
    task = session.get(ProgressTask, task_id)
    if task is None:
        raise ApiError(404, "task_not_found", f"未找到任务 {task_id}", f"task {task_id} not found")
    if len(report.narrative) > max_narrative_chars:
        raise ApiError(
            413,
            "narrative_too_long",
            f"工作进展超过 {max_narrative_chars} 字上限",
            f"the narrative is longer than {max_narrative_chars} characters",
        )
    if report.unit not in task.host_units and report.unit not in task.co_units:
        raise ApiError(
            403,
            "unit_not_responsible",
            f"{report.unit} 不是该任务的主办或协办单位",
            f"{report.unit} is neither a host nor a co-unit of this task",
        )
    row = ProgressReport(
        report_id=uuid.uuid4().hex,
        task_id=task_id,
        unit=report.unit,
        period=report.period,
        percent=report.percent,
        narrative=report.narrative,
        issues=report.issues,
        next_steps=report.next_steps,
        quantities=report.quantities,
        idempotency_key=idempotency_key,
    )
    session.add(row)
    task.percent = report.percent
    task.last_report_at = row.received_at
    stage(
        session,
        subjects.progress_reported,
        ProgressReported(
            source="progress",
            report_id=row.report_id,
            task_id=task_id,
            unit=report.unit,
            period=report.period,
            percent=report.percent,
            narrative=report.narrative,
        ),
    )
    _refresh_flag(
        session=session, subjects=subjects, task=task, today=today, thresholds=thresholds, cause=row.report_id
    )
    try:
        session.commit()
    except IntegrityError:
        # Two retries with one key raced; the loser answers with the winner's report.
        session.rollback()
        if idempotency_key is None:
            raise
        return record_report(
            session=session,
            subjects=subjects,
            task_id=task_id,
            report=report,
            idempotency_key=idempotency_key,
            today=today,
            thresholds=thresholds,
            max_narrative_chars=max_narrative_chars,
        )
    return _answer(session, row), True


def _answer(session: Session, row: ProgressReport) -> ReportAccepted:
    task = session.get(ProgressTask, row.task_id)
    assert task is not None
    return ReportAccepted(
        report_id=row.report_id,
        task_id=row.task_id,
        flag=task.flag,
        percent=row.percent,
        expected_percent=task.expected_percent,
        reason=task.reason,
    )


def task_reports(*, session: Session, task_id: str, limit: int = 50) -> list[ProgressReport]:
    stmt = (
        select(ProgressReport)
        .where(ProgressReport.task_id == task_id)
        .order_by(ProgressReport.received_at.desc())  # type: ignore[attr-defined]
        .limit(limit)
    )
    return list(session.exec(stmt).all())
