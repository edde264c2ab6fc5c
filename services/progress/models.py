from __future__ import annotations

from datetime import UTC, date, datetime

from pydantic import BaseModel
from pydantic import Field as PField
from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel


class ProgressTask(SQLModel, table=True):
    """The status read model of one task, updated from events, never recomputed per query."""

    __tablename__ = "progress_task"

    task_id: str = Field(primary_key=True, max_length=64)
    key: str = Field(max_length=250)
    doc_no: str = Field(index=True, max_length=200)
    text: str
    leaders: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    host_units: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    co_units: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    issued_date: date | None = None
    due_date: date | None = None
    task_version: int = 0
    percent: float = 0.0
    expected_percent: float = 0.0
    flag: str = Field(default="blue", index=True, max_length=10)
    reason: str = ""
    last_report_at: datetime | None = None


class ProgressReport(SQLModel, table=True):
    __tablename__ = "progress_report"

    report_id: str = Field(primary_key=True, max_length=32)
    task_id: str = Field(index=True, max_length=64)
    unit: str = Field(max_length=200)
    period: str | None = Field(default=None, max_length=20)
    percent: float
    narrative: str = ""
    issues: str = ""
    next_steps: str = ""
    quantities: dict[str, float] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    idempotency_key: str | None = Field(default=None, unique=True, max_length=200)
    received_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


class ReportIn(BaseModel):
    """A progress report (进度填报) as a unit submits it."""

    unit: str = PField(min_length=1, max_length=200, description="The reporting unit (a host or co-unit).")
    percent: float = PField(ge=0, le=100, description="完成情况 in percent, 0–100.")
    narrative: str = PField(default="", description="工作进展.")
    issues: str = PField(default="", max_length=5000, description="存在问题.")
    next_steps: str = PField(default="", max_length=5000, description="下步打算.")
    period: str | None = PField(default=None, max_length=20, description="Reporting period: 2025-03, 2025-W10…")
    quantities: dict[str, float] = PField(
        default_factory=dict, description='Value reached per task quantity, keyed by its index ("0", "1"…).'
    )


class ReportAccepted(BaseModel):
    report_id: str
    task_id: str
    flag: str
    percent: float
    expected_percent: float
    reason: str


class TaskStatus(BaseModel):
    task_id: str
    key: str
    flag: str
    percent: float
    expected_percent: float
    reason: str
    due_date: date | None
    last_report_at: datetime | None
    reports: list[dict[str, object]] = PField(default_factory=list)
