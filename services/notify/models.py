"""Notify's tables: its copy of the tasks it chases, the escalations, their history, silences."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from services.common.timestamps import UtcDateTime


def _now() -> datetime:
    return datetime.now(UTC)


class ChasedTask(SQLModel, table=True):
    """What the process needs of a task, kept from `task.upserted`, `status.changed` and reports.

    The date columns say when a rule next looks at the task, so a daily tick reads only the few
    tasks something is due for instead of every task. (A period's 临近提醒 needs none: every task
    of a period kind shares its date.)
    """

    __tablename__ = "notify_task"

    task_id: str = Field(primary_key=True, max_length=64)
    doc_no: str = Field(default="", max_length=200)
    number: int = 0
    text: str = ""
    supervision: str = Field(default="supervised", max_length=20)
    supervision_start: date | None = None
    due_date: date | None = None
    removed: bool = False
    closed: bool = False
    # {unit_id: {"name": str, "external": bool}} for every host unit, groups expanded.
    units: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # [{"name": str, "post_id": str | None, "holder": str | None}] — the lead leaders.
    leaders: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    flag: str = Field(default="blue", max_length=10)
    rule: str = Field(default="", max_length=30)
    reason: str = ""
    percent: float = 0.0
    expected_percent: float = 0.0
    period_kind: str = Field(default="month", max_length=10)
    reported_through: date | None = None
    first_seen: date | None = None
    # When each date rule next looks at the task (None: nothing due).
    due_advance_on: date | None = Field(default=None, index=True)
    report_check_on: date | None = Field(default=None, index=True)


class PendingReceipt(SQLModel, table=True):
    """An assignment a host unit has not signed for; chased once its window has passed."""

    __tablename__ = "notify_receipt"

    task_id: str = Field(primary_key=True, max_length=64)
    unit_id: str = Field(primary_key=True, max_length=64)
    assigned_on: date
    chase_on: date = Field(index=True)
    signed: bool = Field(default=False, index=True)
    chased: bool = False


class Escalation(SQLModel, table=True):
    """One cause being chased on one task: a 临近提醒, a run of 催办 climbing to 督办, a red flag.

    It keeps its latest step; every step, acknowledgement, silence and closure is in the history.
    """

    __tablename__ = "notify_escalation"

    escalation_id: str = Field(primary_key=True, max_length=32)
    level: str = Field(index=True, max_length=20)
    task_id: str = Field(index=True, max_length=64)
    unit: str = Field(index=True, max_length=200)
    unit_id: str = Field(default="", index=True, max_length=64)
    message: str
    raised_at: datetime = Field(default_factory=_now, sa_type=UtcDateTime)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    acknowledged_by: str | None = Field(default=None, max_length=300)
    rule: str = Field(default="red", index=True, max_length=30)
    cause_key: str = Field(default="", max_length=64)
    step: int = 1
    state: str = Field(default="open", index=True, max_length=10)  # open, paused, closed, done
    title: str = Field(default="", max_length=300)
    doc_no: str = Field(default="", max_length=200)
    opened_on: date | None = None
    raised_on: date | None = None
    next_on: date | None = Field(default=None, index=True)
    closed_on: date | None = None
    closed_reason: str = Field(default="", max_length=200)
    ack_comment: str = ""
    # Unit and post ids it is addressed to, padded for `LIKE '% id %'` (see history.pad).
    parties: str = ""
    # [{"kind", "id", "name", "holder", "copy"}]
    recipients: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class HistoryEntry(SQLModel, table=True):
    """留痕: one thing that happened in a task's chase."""

    __tablename__ = "notify_history"

    id: int | None = Field(default=None, primary_key=True)
    task_id: str = Field(index=True, max_length=64)
    escalation_id: str = Field(default="", index=True, max_length=32)
    on: date = Field(index=True)
    at: datetime = Field(default_factory=_now, sa_type=UtcDateTime)
    kind: str = Field(max_length=20)  # raised, step, ack, paused, reopened, silenced, closed
    level: str = Field(default="", max_length=20)
    rule: str = Field(default="", max_length=30)
    step: int = 0
    actor: str = Field(default="", max_length=300)
    note: str = ""
    # Unit and post ids it concerns, space-separated and padded, so `LIKE '% id %'` finds them.
    parties: str = ""


class Silence(SQLModel, table=True):
    """The office mutes a task, a unit or a rule until a date, with a reason."""

    __tablename__ = "notify_silence"

    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(max_length=10)  # task, unit, rule
    target: str = Field(index=True, max_length=64)
    starts_on: date
    until: date = Field(index=True)
    reason: str
    created_by: str = Field(default="", max_length=300)
    created_at: datetime = Field(default_factory=_now, sa_type=UtcDateTime)


class ClockState(SQLModel, table=True):
    """The last date a clock.tick was published for, so each date ticks once."""

    __tablename__ = "notify_clock"

    id: int = Field(default=1, primary_key=True)
    last_tick: date | None = None


TABLES = [ChasedTask, PendingReceipt, Escalation, HistoryEntry, Silence, ClockState]
