"""Judging a task and keeping its status, roll-ups and `status.changed` events in step."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, or_, update
from sqlmodel import Session, select

from proto.clock import ClockTicked
from proto.progress import StatusChanged
from proto.subjects import Subjects
from services.common import periods
from services.common.clock import CHINA, local_date
from services.common.inbox import remember, seen
from services.common.outbox import outbox_row, stage, stage_rows
from services.common.workdays import DEFAULT as DEFAULT_CALENDAR
from services.common.workdays import WorkCalendar
from services.common.workdaysfile import load_calendar
from services.progress import supervision
from services.progress.flags import Thresholds, Verdict, judge
from services.progress.judgement_dates import next_judgement
from services.progress.models import ProgressTask
from services.progress.rollups import Deltas, add_delta, apply_rollups, flush_rollups, stage_rollup
from services.progress.settings import ProgressSettings
from services.progress.units import unit_names

TICK_CONSUMER = "progress-clock-tick"
# `judge_on` of a task time alone will never change (done, closed, not supervised): NULL is kept
# for "not judged yet", which the next tick judges.
NEVER = date(9999, 12, 31)
TICK_CHUNK = 1000


@dataclass(frozen=True)
class Rules:
    """Every configurable rule of the service, taken from its settings once."""

    thresholds: Thresholds = field(default_factory=Thresholds)
    period: str = "month"
    notice_periods: dict[str, str] = field(default_factory=dict)
    grace_days: int = 5
    stale_similarity: float = 0.9
    max_narrative_chars: int = 5000
    # The government's days: a report's period and every date a judgement uses are dates here.
    zone: ZoneInfo = CHINA
    # Counts the 签收 delay in working days: holidays skipped, 调休 counted.
    calendar: WorkCalendar = DEFAULT_CALENDAR

    @classmethod
    def from_settings(cls, settings: ProgressSettings, zone: ZoneInfo | None = None) -> Rules:
        """The rules of `settings`; `zone` is the service clock's, when a clock other than the settings' is used."""
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
            zone=zone or settings.zone,
            calendar=load_calendar(settings.workdays_file),
        )

    def day(self, at: datetime) -> date:
        """The government's date at an instant."""
        return local_date(at, self.zone)

    def period_kind(self, task: Any) -> str:
        return self.notice_periods.get(task.doc_no) or self.notice_periods.get(task.notice_id) or self.period


def start_date(task: Any) -> date | None:
    return task.issued_date or task.assigned_on


def _missed(task: Any, today: date, rules: Rules) -> int:
    if task.closeout_state == "closed" or task.removed:
        return 0
    since = task.reported_through + timedelta(days=1) if task.reported_through else task.assigned_on
    if since is None:
        return 0
    first = periods.first_period_day(rules.period_kind(task), task.supervision_start)
    since = max(since, first) if first else since
    return periods.missed_periods(rules.period_kind(task), since=since, today=today, grace_days=rules.grace_days)


def _unacknowledged_days(task: Any, today: date, calendar: WorkCalendar) -> int:
    """Working days a host unit has left a task unsigned for."""
    if not task.unacknowledged_since:
        return 0
    # The 签收 window opens when supervision starts, not when the notice was dated or registered.
    since = max(task.unacknowledged_since, task.supervision_start or task.unacknowledged_since)
    return max(0, calendar.working_days_between(since, today))


def rejudge(task: Any, today: date, rules: Rules) -> tuple[str | None, Verdict]:
    """Judge a task and write the verdict into its status fields; returns the old flag and the verdict.

    `task` is a `ProgressTask` or any object with its columns as attributes (the bulk paths use
    plain rows), so one rule serves the ORM and the SQL writers alike.
    """
    missed = _missed(task, today, rules)
    unacknowledged = _unacknowledged_days(task, today, rules.calendar)
    verdict = judge(
        percent=task.percent,
        start=start_date(task),
        due=task.due_date,
        today=today,
        thresholds=rules.thresholds,
        missed_periods=missed,
        closed=task.closeout_state == "closed",
        unacknowledged_days=unacknowledged,
        milestones=task.milestones or (),
    )
    verdict = supervision.restrain(verdict, task, today, rules.period_kind(task), rules.grace_days)
    old = task.flag or None
    task.expected_percent = verdict.expected_percent
    task.reason = verdict.reason
    task.rule = verdict.rule
    task.missed_periods = missed
    task.overdue = verdict.rule == "overdue"
    task.flag = verdict.flag
    task.judge_on = next_judgement(task, today, rules) or NEVER
    return old, verdict


def status_event(
    *, task: Any, old: str | None, verdict: Verdict, names: dict[str, str], cause: str, period_kind: str
) -> StatusChanged:
    return StatusChanged(
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
        supervised=task.supervision == "supervised",
        period_kind=period_kind,
        reported_through=task.reported_through,
    )


def refresh(*, session: Session, subjects: Subjects, task: ProgressTask, today: date, rules: Rules, cause: str) -> bool:
    """Re-judge a task, queue its roll-up change, stage `status.changed` if the flag moved."""
    old, verdict = rejudge(task, today, rules)
    moved = verdict.flag != old
    stage_rollup(session, task)
    session.add(task)
    if moved and not task.removed:
        session.flush()  # as the ORM query this lookup replaced did: units this session added count
        names = unit_names(session.connection(), task.host_unit_ids)
        stage(
            session,
            subjects.status_changed,
            status_event(
                task=task, old=old, verdict=verdict, names=names, cause=cause, period_kind=rules.period_kind(task)
            ),
        )
    return moved


def commit(session: Session) -> None:
    """Apply the queued roll-up changes and commit, so the read model moves with its cause."""
    flush_rollups(session)
    session.commit()


_TICK_COLUMNS = (
    "task_id",
    "doc_no",
    "notice_id",
    "chapter",
    "leaders",
    "host_unit_ids",
    "issued_date",
    "assigned_on",
    "due_date",
    "milestones",
    "removed",
    "percent",
    "closeout_state",
    "unacknowledged_since",
    "reported_through",
    "supervision",
    "supervision_start",
    # What a judgement writes:
    "expected_percent",
    "reason",
    "rule",
    "missed_periods",
    "overdue",
    "flag",
    "rollup",
    "judge_on",
)
_JUDGED = ("expected_percent", "reason", "rule", "missed_periods", "overdue", "flag", "rollup", "judge_on")


def apply_clock_tick(*, session: Session, subjects: Subjects, event: ClockTicked, rules: Rules) -> int:
    """Time passing can turn a task yellow or red without any report.

    Only the tasks whose `judge_on` has come are re-judged (each judgement sets the next day
    time alone may change its verdict), in chunks of plain rows (only the columns the rule reads),
    each chunk its own transaction writing back only the tasks whose judgement changed:
    re-judging a day twice changes nothing, so a crash half-way is simply redone at the
    redelivery.
    """
    if seen(session, TICK_CONSUMER, event.event_id):
        return 0
    table = ProgressTask.__table__  # type: ignore[attr-defined]
    columns = [table.c[name] for name in _TICK_COLUMNS]
    write = (
        update(table).where(table.c.task_id == bindparam("k_task")).values({name: bindparam(name) for name in _JUDGED})
    )
    moved = 0
    after = ""
    while True:
        rows = session.execute(
            select(*columns)
            .where(
                table.c.task_id > after,
                table.c.closeout_state != "closed",
                table.c.removed == False,  # noqa: E712
                or_(table.c.judge_on.is_(None), table.c.judge_on <= event.today),
            )
            .order_by(table.c.task_id)
            .limit(TICK_CHUNK)
        ).all()
        if not rows:
            break
        changed: list[dict[str, Any]] = []
        events: list[tuple[Any, str | None, Verdict]] = []
        pending: Deltas = {}
        for row in rows:
            task = SimpleNamespace(**row._mapping)
            before = tuple(getattr(task, name) for name in _JUDGED)
            old, verdict = rejudge(task, event.today, rules)
            add_delta(pending, task)
            if tuple(getattr(task, name) for name in _JUDGED) != before:
                changed.append({"k_task": task.task_id} | {name: getattr(task, name) for name in _JUDGED})
            if verdict.flag != old:
                events.append((task, old, verdict))
        if changed:
            session.execute(write, changed)
        if events:
            names = unit_names(session.connection(), (uid for task, _o, _v in events for uid in task.host_unit_ids))
            stage_rows(
                session,
                [
                    outbox_row(
                        subjects.status_changed,
                        status_event(
                            task=task,
                            old=old,
                            verdict=verdict,
                            names=names,
                            cause=event.event_id,
                            period_kind=rules.period_kind(task),
                        ),
                    )
                    for task, old, verdict in events
                ],
            )
            moved += len(events)
        apply_rollups(session, pending)
        session.commit()
        after = rows[-1].task_id
    remember(session, TICK_CONSUMER, event.event_id)
    session.commit()
    # The rows changed under the session's objects; none it holds may be trusted.
    session.expire_all()
    return moved
