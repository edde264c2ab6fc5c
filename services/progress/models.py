"""The progress service's tables. API schemas are in `schemas.py`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from services.common.timestamps import UtcDateTime


class ProgressUnit(SQLModel, table=True):
    """A unit as progress knows it from task events: ids for tokens and authorisation, names for people."""

    __tablename__ = "progress_unit"

    unit_id: str = Field(primary_key=True, max_length=64)
    name: str = Field(index=True, max_length=200)
    canonical: str | None = Field(default=None, index=True, max_length=200)


class ProgressTask(SQLModel, table=True):
    """The status read model of one task, updated from events and reports, never recomputed per query."""

    __tablename__ = "progress_task"

    task_id: str = Field(primary_key=True, max_length=64)
    key: str = Field(max_length=250)
    notice_id: str = Field(default="", index=True, max_length=64)
    doc_no: str = Field(index=True, max_length=200)
    number: int = 0
    chapter: str | None = Field(default=None, max_length=20)
    text: str
    leaders: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    host_units: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    co_units: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    host_unit_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    co_unit_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    quantities: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Dated steps of a task due in stages (proto Milestone as JSON); the pace follows them.
    milestones: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    word_targets: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    deadline_phrase: str | None = None
    issued_date: date | None = None
    assigned_on: date | None = None
    original_due_date: date | None = None
    due_date: date | None = None
    task_version: int = 0
    removed: bool = False
    percent: float = 0.0
    expected_percent: float = 0.0  # as of the last judgement; reads recompute it for today
    flag: str = Field(default="blue", index=True, max_length=10)
    rule: str = Field(default="", max_length=20)
    reason: str = ""
    overdue: bool = False
    missed_periods: int = 0
    # The next day time alone may change the flag or rule (`judgement_dates`); the daily tick
    # re-judges only the tasks due, and None until first judged.
    judge_on: date | None = Field(default=None, index=True)
    unacknowledged_since: date | None = None
    reported_through: date | None = None
    last_report_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    report_count: int = 0
    latest_report_id: str | None = Field(default=None, max_length=32)
    latest_unit: str | None = Field(default=None, max_length=200)
    latest_period: str | None = Field(default=None, max_length=20)
    latest_narrative: str = ""
    stale: bool = False
    # Latest value reached per quantity index, from any unit's report.
    achieved: dict[str, float] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    closeout_state: str = Field(default="", max_length=12)
    # The notice's supervision, from the registry: only a supervised task is judged, from its start.
    supervision: str = Field(default="supervised", max_length=12)
    supervision_start: date | None = None
    # What this task last added to the roll-ups, so a change subtracts exactly that.
    rollup: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class ProgressReport(SQLModel, table=True):
    __tablename__ = "progress_report"
    __table_args__ = (
        UniqueConstraint("unit_id", "idempotency_key", name="uq_progress_report_idempotency"),
        Index("ix_progress_report_task_received", "task_id", "received_at"),
    )

    report_id: str = Field(primary_key=True, max_length=32)
    task_id: str = Field(max_length=64)
    unit_id: str = Field(default="", max_length=64)
    unit: str = Field(max_length=200)
    period: str | None = Field(default=None, max_length=20)
    percent: float
    completion: float = 0.0
    narrative: str = ""
    issues: str = ""
    next_steps: str = ""
    quantities: dict[str, float] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    links: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    stale: bool = False
    similarity: float | None = None
    idempotency_key: str | None = Field(default=None, max_length=200)
    request_hash: str = Field(default="", max_length=64)
    # The first answer, returned verbatim to a retry with the same Idempotency-Key.
    answer: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    received_at: datetime = Field(sa_type=UtcDateTime)
    # The token that made the report: a report row is its own audit entry (who, what, when).
    token_id: str = Field(default="", max_length=16)


class UnitLatest(SQLModel, table=True):
    """Each unit's latest report on a task, and the narrative of the period before it (for staleness)."""

    __tablename__ = "progress_unit_latest"

    task_id: str = Field(primary_key=True, max_length=64)
    unit_id: str = Field(primary_key=True, max_length=64)
    report_id: str = Field(max_length=32)
    completion: float
    period: str | None = Field(default=None, max_length=20)
    narrative: str = ""
    previous_narrative: str = ""
    received_at: datetime = Field(sa_type=UtcDateTime)


class Receipt(SQLModel, table=True):
    """签收: a host unit's acknowledgement of an assigned task."""

    __tablename__ = "progress_receipt"

    task_id: str = Field(primary_key=True, max_length=64)
    unit_id: str = Field(primary_key=True, max_length=64)
    assigned_on: date
    acknowledged_at: datetime | None = Field(default=None, index=True, sa_type=UtcDateTime)
    acknowledged_by: str | None = Field(default=None, max_length=16)


class Extension(SQLModel, table=True):
    """延期: a host unit's request for a new due date and the office's decision."""

    __tablename__ = "progress_extension"

    extension_id: str = Field(primary_key=True, max_length=32)
    task_id: str = Field(index=True, max_length=64)
    unit_id: str = Field(max_length=64)
    previous_due_date: date | None = None
    requested_due_date: date
    reason: str
    state: str = Field(default="pending", index=True, max_length=10)
    requested_at: datetime = Field(sa_type=UtcDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    decided_by: str | None = Field(default=None, max_length=16)
    comment: str = ""


class Closeout(SQLModel, table=True):
    """办结: a host unit's request to close a task and the office's decision."""

    __tablename__ = "progress_closeout"

    closeout_id: str = Field(primary_key=True, max_length=32)
    task_id: str = Field(index=True, max_length=64)
    unit_id: str = Field(max_length=64)
    summary: str = ""
    state: str = Field(default="pending", index=True, max_length=10)
    requested_at: datetime = Field(sa_type=UtcDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    decided_by: str | None = Field(default=None, max_length=16)
    comment: str = ""


class Rollup(SQLModel, table=True):
    """Counts per flag, completion sum and overdue count per unit, leader, chapter and notice.

    Completion is summed in tenths of a percent, as an integer, so adding and subtracting a
    task's contribution a million times leaves no floating-point drift.
    """

    __tablename__ = "progress_rollup"

    dimension: str = Field(primary_key=True, max_length=10)
    key: str = Field(primary_key=True, max_length=250)
    label: str = Field(default="", max_length=250)
    total: int = 0
    blue: int = 0
    yellow: int = 0
    red: int = 0
    closed: int = 0
    overdue: int = 0
    completion_tenths: int = 0


class Bulletin(SQLModel, table=True):
    """通报: a numbered document of one period's figures; a draft until the office publishes it."""

    __tablename__ = "progress_bulletin"

    bulletin_id: str = Field(primary_key=True, max_length=64)
    state: str = Field(default="draft", index=True, max_length=10)
    notices: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # The notices' set as one key (sorted 文号 joined by `|`): "the previous bulletin" is of the same set.
    notice_key: str = Field(index=True, max_length=1000)
    period_label: str = Field(max_length=40)
    period_start: date
    period_end: date = Field(index=True)
    title: str = Field(max_length=300)
    doc_no: str | None = Field(default=None, max_length=100)
    doc_year: int | None = None
    doc_serial: int | None = None
    comments: str = ""
    main_to: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    copy_to: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    figures: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    schedule_rule: str | None = Field(default=None, max_length=100)
    created_at: datetime = Field(sa_type=UtcDateTime)
    created_by: str = Field(default="", max_length=120)
    updated_at: datetime = Field(sa_type=UtcDateTime)
    published_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    published_by: str | None = Field(default=None, max_length=120)


class BulletinCounter(SQLModel, table=True):
    """The last 文号 serial given per year: 兖督通〔2026〕3号 is the third of 2026."""

    __tablename__ = "progress_bulletin_counter"

    year: int = Field(primary_key=True)
    last: int = 0


class BulletinMark(SQLModel, table=True):
    """A task the escalation ladder marked for the next bulletin (提级督办, `escalation.raised.head.*`)."""

    __tablename__ = "progress_bulletin_mark"

    escalation_id: str = Field(primary_key=True, max_length=64)
    task_id: str = Field(index=True, max_length=64)
    unit_id: str = Field(default="", max_length=64)
    level: str = Field(default="head", max_length=20)
    message: str = ""
    raised_at: datetime = Field(index=True, sa_type=UtcDateTime)


TABLES: list[type[SQLModel]] = [
    ProgressUnit,
    ProgressTask,
    ProgressReport,
    UnitLatest,
    Receipt,
    Extension,
    Closeout,
    Rollup,
    Bulletin,
    BulletinCounter,
    BulletinMark,
]
