"""`task.upserted`: the registry's view of one task, with its responsible units resolved."""

from __future__ import annotations

import hashlib
from datetime import date

from pydantic import BaseModel, Field

from proto.envelope import Event
from proto.notice import Milestone, Quantity, Supervision


def task_key(doc_no: str, number: int) -> str:
    """The human task key, e.g. 济兖政发〔2025〕1号#12."""
    return f"{doc_no}#{number}"


def task_id_for(doc_no: str, number: int) -> str:
    """The URL-safe stable task id: same notice and number, same id, across re-ingests."""
    digest = hashlib.sha1(doc_no.encode("utf-8")).hexdigest()[:10]
    return f"t{digest}-{number}"


class UnitRef(BaseModel):
    unit_id: str = Field(description="Stable id of the unit in the registry directory (subject-safe ASCII).")
    name: str = Field(description="The unit's name as written in the notice.")
    canonical: str | None = Field(default=None, description="The directory's canonical name, when resolved.")
    provisional: bool = Field(
        default=False, description="True while the name is not yet mapped to a known unit by the office."
    )
    is_group: bool = Field(default=False, description="A collective name (各镇街) standing for several units.")
    external: bool = Field(
        default=False,
        description="Outside the office's directory scope (a name nobody mapped, or a unit of kind external): "
        "shown, not chased.",
    )


class LeaderRef(BaseModel):
    name: str = Field(description="The leader as written in the notice.")
    post_id: str | None = Field(default=None, description="The post (区长, 副区长…) the leader holds, when known.")
    holder: str | None = Field(default=None, description="The post's current holder, who answers for the task now.")


class TaskUpserted(Event):
    """Published by the registry when a task is created or changed."""

    task_id: str = Field(description="Stable URL-safe task id.", examples=["t1a2b3c4d5e-12"])
    key: str = Field(description="Human key: doc_no#number.", examples=["济兖政发〔2025〕1号#12"])
    notice_id: str = Field(description="Id of the notice upload the task came from.")
    doc_no: str = Field(description="文号 of the notice.")
    version: int = Field(default=1, description="Registry version of the task; grows with each change.")
    number: int = Field(description="Task number in the notice.")
    chapter: str | None = Field(default=None, description="Chapter ordinal: 一, 二…")
    text: str = Field(description="The task text.")
    leaders: list[str] = Field(default_factory=list, description="Lead leaders as written.")
    host_units: list[UnitRef] = Field(default_factory=list, description="Units that lead the work.")
    co_units: list[UnitRef] = Field(default_factory=list, description="Units that help.")
    issued_date: date | None = Field(default=None, description="The notice's date: progress is measured from it.")
    due_date: date | None = Field(default=None, description="When the task must be done.")
    quantities: list[Quantity] = Field(default_factory=list, description="Quantitative targets, indexed from 0.")
    word_targets: list[Quantity] = Field(
        default_factory=list,
        description="Targets written as words (创千亿, 翻一番, 全覆盖) with the value each implies; apart from the figures.",
    )
    milestones: list[Milestone] = Field(
        default_factory=list, description="Dated steps of a task due in stages (earliest first); the pace follows them."
    )
    deadline_phrase: str | None = Field(default=None, description="The time limit as written (年内, 6月底前…).")
    leader_refs: list[LeaderRef] = Field(default_factory=list, description="Leaders resolved to posts and holders.")
    host_unit_ids: list[str] = Field(
        default_factory=list, description="Ids of every host unit, groups expanded to their members."
    )
    co_unit_ids: list[str] = Field(
        default_factory=list, description="Ids of every co-unit, groups expanded to their members."
    )
    removed: bool = Field(default=False, description="True when a new version of the notice no longer holds the task.")
    supervision: Supervision = Field(
        default="supervised",
        description="The notice's supervision state: only a supervised notice's tasks are judged and chased.",
    )
    supervision_start: date | None = Field(
        default=None,
        description="The day the notice's supervision starts: no report is missed and no 签收 is late before "
        "it, and the state a task is in then is a baseline, not a change. None: since the notice's date.",
    )
