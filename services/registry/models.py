"""The registry's tables: notices and their versions, tasks, assignments, audit and links.

The unit and leader directory lives in `directory_models.py`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import DDL, JSON, Column, Index, UniqueConstraint, event
from sqlmodel import Field, SQLModel

from services.common.params import NAME_MAX, PERSON_MAX
from services.common.timestamps import UtcDateTime


def _now() -> datetime:
    return datetime.now(UTC)


class RegistryNotice(SQLModel, table=True):
    """One notice, identified by its 文号; each differing upload adds a `NoticeVersion`."""

    __tablename__ = "registry_notice"

    doc_no: str = Field(primary_key=True, max_length=200)
    notice_id: str = Field(index=True, max_length=32, description="The upload of the current version.")
    title: str | None = None
    issuer: str | None = None
    year: int | None = None
    issued_date: date | None = None
    version: int = 1
    received_at: datetime = Field(default_factory=_now, sa_type=UtcDateTime)
    # Set by the office (at upload or later); only a supervised notice's tasks are judged and chased.
    supervision: str = Field(default="supervised", max_length=12, description="supervised, reference, archived")
    supervision_start: date | None = Field(default=None, description="The day supervision starts (China time).")


class NoticeVersion(SQLModel, table=True):
    __tablename__ = "registry_notice_version"
    __table_args__ = (UniqueConstraint("doc_no", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    doc_no: str = Field(index=True, max_length=200)
    version: int
    notice_id: str = Field(index=True, max_length=32)
    content_hash: str = Field(max_length=64)
    task_count: int = 0
    # {"added": [numbers], "removed": [numbers], "changed": [{"number", "fields"}]}
    diff: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    received_at: datetime = Field(default_factory=_now, sa_type=UtcDateTime)


class HeldVersion(SQLModel, table=True):
    """A new version of a notice that would remove too many tasks, held for the office to decide.

    Its own table rather than a status on `NoticeVersion`, so adding it changed no existing table.
    Its number comes from the notice's one version sequence; confirmed, it is applied
    under that number and gets its `NoticeVersion`, so a discarded number leaves a gap there.
    """

    __tablename__ = "registry_held_version"
    __table_args__ = (UniqueConstraint("doc_no", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    doc_no: str = Field(index=True, max_length=200)
    version: int
    based_on: int = Field(description="The version in force when it arrived, which its diff is against.")
    notice_id: str = Field(max_length=32)
    content_hash: str = Field(max_length=64)
    task_count: int = 0
    diff: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # The `notice.parsed` payload, applied if the office confirms; dropped once decided.
    event: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    status: str = Field(
        default="pending", index=True, max_length=12, description="pending, confirmed, discarded, superseded"
    )
    received_at: datetime = Field(default_factory=_now, sa_type=UtcDateTime)
    decided_by: str | None = Field(default=None, max_length=100)
    decided_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class RegistryTask(SQLModel, table=True):
    """A task's effective state: the parse of its notice overlaid with the office's corrections.

    `parsed` keeps what the latest notice version said, `corrections` what the office changed;
    the flat columns hold the effective values so queries never merge JSON.
    """

    __tablename__ = "registry_task"
    __table_args__ = (
        # Lists are in notice and number order: the ordering key, with `removed` and the id, so
        # a notice's or the whole registry's page is read from this index alone.
        Index("ix_registry_task_order", "doc_no", "number", "removed", "task_id"),
        # The same key reached from a task id (a unit's or a leader's tasks, a text search):
        # picking a page of ids never reads the wide rows.
        Index("ix_registry_task_page", "task_id", "removed", "doc_no", "number"),
    )

    task_id: str = Field(primary_key=True, max_length=64)
    key: str = Field(index=True, max_length=250)
    notice_id: str = Field(index=True, max_length=32)
    doc_no: str = Field(max_length=200)
    number: int
    chapter: str | None = Field(default=None, max_length=10, index=True)
    text: str
    leaders: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    host_units: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    co_units: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    quantities: list[dict] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # type: ignore[type-arg]
    # Dated steps of a task due in stages (proto Milestone as JSON), from the parse.
    milestones: list[dict] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # type: ignore[type-arg]
    word_targets: list[dict] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # type: ignore[type-arg]
    deadline_phrase: str | None = None
    due_date: date | None = Field(default=None, index=True)
    issued_date: date | None = None
    year: int | None = None
    parsed: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    corrections: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    removed: bool = False
    version: int = 1
    updated_at: datetime = Field(default_factory=_now, sa_type=UtcDateTime)


class Assignment(SQLModel, table=True):
    """One unit named on a task, as host or co-unit, resolved to a directory unit.

    Rows exist only for tasks the latest notice version keeps (a removed task loses them), and
    each carries its task's ordering key (文号 and number, fixed for a task id), so a unit's
    list is paged from this table's index alone, with no lookup into the wide task rows.
    """

    __tablename__ = "registry_assignment"
    __table_args__ = (Index("ix_registry_assignment_unit_order", "unit_id", "doc_no", "number", "task_id", "role"),)

    task_id: str = Field(primary_key=True, max_length=64, foreign_key="registry_task.task_id")
    role: str = Field(primary_key=True, max_length=4)
    position: int = Field(primary_key=True)
    name: str = Field(max_length=NAME_MAX, description="The unit as written in the notice or the correction.")
    unit_id: str = Field(max_length=32)
    doc_no: str = Field(max_length=200, description="The task's 文号, its ordering key with `number`.")
    number: int


class TaskLeader(SQLModel, table=True):
    __tablename__ = "registry_task_leader"
    __table_args__ = (Index("ix_registry_task_leader_name", "name", "task_id"),)

    task_id: str = Field(primary_key=True, max_length=64, foreign_key="registry_task.task_id")
    position: int = Field(primary_key=True)
    name: str = Field(max_length=PERSON_MAX)


class AuditEntry(SQLModel, table=True):
    __tablename__ = "registry_audit"

    id: int | None = Field(default=None, primary_key=True)
    task_id: str = Field(index=True, max_length=64)
    at: datetime = Field(default_factory=_now, sa_type=UtcDateTime)
    actor: str = Field(max_length=100)
    action: str = Field(max_length=40, description="correct, reingest, superseded, merge…")
    # {field: {"before": …, "after": …}}
    changes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    version: int = Field(description="The task's version after the change.")
    note: str | None = None


class TaskLink(SQLModel, table=True):
    """A suggested relation between two tasks of different notices, for the office to judge."""

    __tablename__ = "registry_link"
    __table_args__ = (UniqueConstraint("kind", "source_task_id", "target_task_id"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(index=True, max_length=10, description="cascade, series or overlap")
    source_task_id: str = Field(index=True, max_length=64)
    target_task_id: str = Field(index=True, max_length=64)
    confidence: float
    evidence: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="suggested", index=True, max_length=10)
    created_at: datetime = Field(default_factory=_now, sa_type=UtcDateTime)
    decided_by: str | None = Field(default=None, max_length=100)
    decided_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


# Full-text search beside the task table, created with it by `create_all`, which test fixtures and
# benchmarks use; the services get the same from their first migration (a test compares). SQLite: an external-content FTS5
# table with the trigram tokenizer, kept in step by triggers. PostgreSQL: a pg_trgm GIN index,
# which serves `ILIKE '%…%'` for queries of three characters or more.
_SQLITE_FTS = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS registry_task_fts USING fts5("
    "text, content='registry_task', content_rowid='rowid', tokenize='trigram')",
    "CREATE TRIGGER IF NOT EXISTS registry_task_fts_ai AFTER INSERT ON registry_task BEGIN "
    "INSERT INTO registry_task_fts(rowid, text) VALUES (new.rowid, new.text); END",
    "CREATE TRIGGER IF NOT EXISTS registry_task_fts_ad AFTER DELETE ON registry_task BEGIN "
    "INSERT INTO registry_task_fts(registry_task_fts, rowid, text) VALUES ('delete', old.rowid, old.text); END",
    "CREATE TRIGGER IF NOT EXISTS registry_task_fts_au AFTER UPDATE OF text ON registry_task BEGIN "
    "INSERT INTO registry_task_fts(registry_task_fts, rowid, text) VALUES ('delete', old.rowid, old.text); "
    "INSERT INTO registry_task_fts(rowid, text) VALUES (new.rowid, new.text); END",
]
_POSTGRES_TRGM = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS ix_registry_task_text_trgm ON registry_task USING gin (text gin_trgm_ops)",
]
for _statement in _SQLITE_FTS:
    event.listen(RegistryTask.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite"))  # type: ignore[attr-defined]
for _statement in _POSTGRES_TRGM:
    event.listen(RegistryTask.__table__, "after_create", DDL(_statement).execute_if(dialect="postgresql"))  # type: ignore[attr-defined]
