from __future__ import annotations

from datetime import UTC, date, datetime

from pydantic import BaseModel
from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from proto.notice import Quantity
from proto.task import UnitRef


class RegistryNotice(SQLModel, table=True):
    __tablename__ = "registry_notice"

    notice_id: str = Field(primary_key=True, max_length=32)
    doc_no: str = Field(index=True, max_length=200)
    title: str | None = None
    issuer: str | None = None
    year: int | None = None
    issued_date: date | None = None
    received_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


class RegistryTask(SQLModel, table=True):
    __tablename__ = "registry_task"

    task_id: str = Field(primary_key=True, max_length=64)
    key: str = Field(index=True, max_length=250)
    notice_id: str = Field(index=True, max_length=32)
    doc_no: str = Field(index=True, max_length=200)
    number: int
    chapter: str | None = Field(default=None, max_length=10)
    text: str
    leaders: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    host_units: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    co_units: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    quantities: list[dict] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # type: ignore[type-arg]
    deadline_phrase: str | None = None
    due_date: date | None = None
    issued_date: date | None = None
    version: int = 1
    updated_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


class TaskPublic(BaseModel):
    task_id: str
    key: str
    notice_id: str
    doc_no: str
    number: int
    chapter: str | None
    text: str
    leaders: list[str]
    host_units: list[UnitRef]
    co_units: list[UnitRef]
    quantities: list[Quantity]
    deadline_phrase: str | None
    due_date: date | None
    version: int


class TasksPublic(BaseModel):
    data: list[TaskPublic]
    count: int
