"""What the registry's HTTP API accepts and answers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from proto.notice import Quantity, Supervision
from proto.task import LeaderRef, UnitRef
from services.common.params import Amount, Day, Flag, Line, Text

Name = Annotated[Line, Field(min_length=1, max_length=200)]
Kind = Annotated[Line, Field(max_length=20)]
Person = Annotated[Line, Field(min_length=1, max_length=100)]


class TaskPublic(BaseModel):
    task_id: str
    key: str
    notice_id: str
    doc_no: str
    number: int
    chapter: str | None
    text: str
    leaders: list[str]
    leader_refs: list[LeaderRef] = Field(default_factory=list)
    host_units: list[UnitRef]
    co_units: list[UnitRef]
    quantities: list[Quantity]
    word_targets: list[Quantity] = Field(
        default_factory=list, description="Targets written as words (创千亿, 翻一番, 全覆盖) with the value implied."
    )
    deadline_phrase: str | None
    due_date: date | None
    issued_date: date | None = None
    corrected: list[str] = Field(default_factory=list, description="Fields the office has corrected.")
    removed: bool = False
    version: int


class TasksPublic(BaseModel):
    data: list[TaskPublic]
    count: int


class QuantityIn(BaseModel):
    """A quantity as the office corrects it: `Quantity` with finite, bounded numbers."""

    model_config = ConfigDict(extra="forbid")

    text: Line = Field(max_length=200)
    value: Amount
    unit: Line = Field(max_length=20)
    value_max: Amount | None = None
    qualifier: Line | None = Field(default=None, max_length=20)


class TaskPatch(BaseModel):
    """A correction: only the fields sent change. Units and leaders must be known to the directory."""

    model_config = ConfigDict(extra="forbid")

    text: Text | None = Field(default=None, min_length=1, max_length=5000)
    leaders: list[Person] | None = Field(default=None, max_length=20)
    host_units: list[Name] | None = Field(default=None, max_length=50)
    co_units: list[Name] | None = Field(default=None, max_length=100)
    deadline_phrase: Line | None = Field(default=None, max_length=100)
    due_date: Day | None = Field(default=None, description="Within 20 years of the notice's year.")
    quantities: list[QuantityIn] | None = Field(default=None, max_length=100)


class AuditPublic(BaseModel):
    id: int
    task_id: str
    at: datetime
    actor: str
    action: str
    changes: dict[str, Any]
    version: int
    note: str | None = None


class AuditsPublic(BaseModel):
    data: list[AuditPublic]
    count: int


class UnitPublic(BaseModel):
    unit_id: str
    name: str
    kind: str
    parent_id: str | None
    provisional: bool
    is_group: bool
    aliases: list[str] = Field(default_factory=list)
    members: list[str] = Field(default_factory=list, description="Member unit ids of a group (explicit and by rule).")
    member_kinds: list[str] = Field(default_factory=list)
    merged_into: str | None = None
    task_count: int = 0


class UnitsPublic(BaseModel):
    data: list[UnitPublic]
    count: int


class UnitCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    kind: Kind | None = None
    parent: Name | None = Field(default=None, description="Parent unit: id, name or alias.")
    aliases: list[Name] = Field(default_factory=list, max_length=50)
    is_group: Flag | None = None
    members: list[Name] | None = Field(default=None, max_length=500)
    member_kinds: list[Kind] | None = Field(default=None, max_length=20)
    member_parent: Name | None = None


class UnitPatch(BaseModel):
    """Map a provisional unit (confirm it, give it a kind or a parent) or add aliases."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    kind: Kind | None = None
    parent: Name | None = None
    aliases: list[Name] = Field(default_factory=list, max_length=50)
    provisional: Flag | None = None
    members: list[Name] | None = Field(default=None, max_length=500)
    member_kinds: list[Kind] | None = Field(default=None, max_length=20)


class MergeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    into: Name = Field(description="The unit to merge into: id, name or alias.")


class PostPublic(BaseModel):
    post_id: str
    title: str
    holder: str | None
    past_holders: list[str] = Field(default_factory=list)
    unit_id: str | None = None


class PostsPublic(BaseModel):
    data: list[PostPublic]
    count: int


class PostPut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Name
    holder: Person | None = None
    since: Day | None = None
    past_holders: list[Person] = Field(default_factory=list, max_length=50)
    unit: Name | None = None


class HolderChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    holder: Person
    since: Day | None = None


class LinkPublic(BaseModel):
    id: int
    kind: str
    source_task_id: str
    target_task_id: str
    source_key: str | None = None
    target_key: str | None = None
    confidence: float
    evidence: dict[str, Any]
    status: str
    decided_by: str | None = None
    decided_at: datetime | None = None


class LinksPublic(BaseModel):
    data: list[LinkPublic]
    count: int


class NoticeVersionPublic(BaseModel):
    version: int
    notice_id: str
    task_count: int
    diff: dict[str, Any]
    received_at: datetime


class HeldVersionPublic(BaseModel):
    """A version held because it would remove too many tasks (待确认), and what became of it."""

    version: int
    based_on: int = Field(description="The version in force when it arrived; the diff is against it.")
    notice_id: str
    task_count: int
    diff: dict[str, Any] = Field(description="Tasks it would add, remove and change.")
    status: str = Field(description="pending (待确认), confirmed, discarded or superseded by a newer version")
    received_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None


class NoticePublic(BaseModel):
    doc_no: str
    notice_id: str
    title: str | None
    issuer: str | None
    year: int | None
    issued_date: date | None
    version: int
    supervision: str = Field(
        default="supervised", description="督办中 supervised, 参考 reference (never judged or chased), 已归档 archived."
    )
    supervision_start: date | None = Field(default=None, description="The day supervision starts.")
    versions: list[NoticeVersionPublic] = Field(default_factory=list)
    held_versions: list[HeldVersionPublic] = Field(
        default_factory=list, description="Versions held for the office to confirm or discard, with their outcome."
    )


class NoticesPublic(BaseModel):
    data: list[NoticePublic]
    count: int


class ImportReport(BaseModel):
    units: int
    groups: int
    posts: int
    republished: int


class SupervisionPut(BaseModel):
    """The office's decision on a notice: its state and the day supervision starts."""

    model_config = ConfigDict(extra="forbid")

    state: Supervision = Field(description="督办中 supervised, 参考 reference or 已归档 archived.")
    start: Day | None = Field(
        default=None,
        description="The day supervision starts (the notice's year ± 1); default: the current start of a notice "
        "already supervised, else today.",
    )
