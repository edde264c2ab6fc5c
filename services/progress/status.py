"""Judging a task and keeping its status, roll-ups and `status.changed` events in step."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlmodel import Session, col, select

from proto.clock import ClockTicked
from proto.progress import StatusChanged
from proto.subjects import Subjects
from services.common.inbox import remember, seen
from services.common.outbox import stage
from services.progress import periods
from services.progress.flags import Thresholds, judge
from services.progress.models import ProgressTask, ProgressUnit
from services.progress.rollups import flush_rollups, stage_rollup
from services.progress.settings import ProgressSettings

TICK_CONSUMER = "progress-clock-tick"
TICK_CHUNK = 500


@dataclass(frozen=True)
class Rules:
    """Every configurable rule of the service, taken from its settings once."""

    thresholds: Thresholds = field(default_factory=Thresholds)
    period: str = "month"
    notice_periods: dict[str, str] = field(default_factory=dict)
    grace_days: int = 5
    stale_similarity: float = 0.9
    max_narrative_chars: int = 5000

    @classmethod
    def from_settings(cls, settings: ProgressSettings) -> Rules:
        return cls(
            thresholds=Thresholds(
                yellow_gap=settings.yellow_gap,
                red_gap=settings.red_gap,
                yellow_missed=settings.yellow_missed,
                red_missed=settings.red_missed,
                receipt_days=settings.receipt_days,
            ),
            period=settings.period,
            notice_periods=dict(settings.notice_periods),
            grace_days=settings.report_grace_days,
            stale_similarity=settings.stale_similarity,
            max_narrative_chars=settings.max_narrative_chars,
        )

    def period_kind(self, task: ProgressTask) -> str:
        return self.notice_periods.get(task.doc_no) or self.notice_periods.get(task.notice_id) or self.period


def start_date(task: ProgressTask) -> date | None:
    return task.issued_date or task.assigned_on


def _missed(task: ProgressTask, today: date, rules: Rules) -> int:
    if task.closeout_state == "closed" or task.removed:
        return 0
    since = task.reported_through + timedelta(days=1) if task.reported_through else task.assigned_on
    if since is None:
        return 0
    return periods.missed_periods(rules.period_kind(task), since=since, today=today, grace_days=rules.grace_days)


def refresh(*, session: Session, subjects: Subjects, task: ProgressTask, today: date, rules: Rules, cause: str) -> bool:
    """Re-judge a task, queue its roll-up change, stage `status.changed` if the flag moved."""
    closed = task.closeout_state == "closed"
    missed = _missed(task, today, rules)
    unacknowledged = (today - task.unacknowledged_since).days if task.unacknowledged_since else 0
    verdict = judge(
        percent=task.percent,
        start=start_date(task),
        due=task.due_date,
        today=today,
        thresholds=rules.thresholds,
        missed_periods=missed,
        closed=closed,
        unacknowledged_days=unacknowledged,
    )
    old = task.flag or None
    task.expected_percent = verdict.expected_percent
    task.reason = verdict.reason
    task.rule = verdict.rule
    task.missed_periods = missed
    task.overdue = verdict.rule == "overdue"
    moved = verdict.flag != old
    task.flag = verdict.flag
    stage_rollup(session, task)
    session.add(task)
    if moved and not task.removed:
        names = unit_names(session, task.host_unit_ids)
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
                host_units=[names.get(uid, uid) for uid in task.host_unit_ids],
                host_unit_ids=list(task.host_unit_ids),
                leaders=task.leaders,
                rule=verdict.rule,
            ),
        )
    return moved


def unit_names(session: Session, unit_ids: list[str]) -> dict[str, str]:
    if not unit_ids:
        return {}
    rows = session.exec(select(ProgressUnit).where(col(ProgressUnit.unit_id).in_(unit_ids))).all()
    return {u.unit_id: u.canonical or u.name for u in rows}


def commit(session: Session) -> None:
    """Apply the queued roll-up changes and commit, so the read model moves with its cause."""
    flush_rollups(session)
    session.commit()


def apply_clock_tick(*, session: Session, subjects: Subjects, event: ClockTicked, rules: Rules) -> int:
    """Time passing can turn a task yellow or red without any report.

    Open tasks are re-judged in chunks, each its own transaction: re-judging a day twice changes
    nothing, so a crash half-way is simply redone at the redelivery.
    """
    if seen(session, TICK_CONSUMER, event.event_id):
        return 0
    moved = 0
    after = ""
    while True:
        chunk = session.exec(
            select(ProgressTask)
            .where(
                col(ProgressTask.task_id) > after,
                ProgressTask.closeout_state != "closed",
                ProgressTask.removed == False,  # noqa: E712
            )
            .order_by(col(ProgressTask.task_id))
            .limit(TICK_CHUNK)
        ).all()
        if not chunk:
            break
        for task in chunk:
            moved += refresh(
                session=session, subjects=subjects, task=task, today=event.today, rules=rules, cause=event.event_id
            )
        after = chunk[-1].task_id
        commit(session)
        session.expunge_all()
    remember(session, TICK_CONSUMER, event.event_id)
    session.commit()
    return moved
