"""The notify API's request and answer shapes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.common.params import Line


class EscalationPublic(BaseModel):
    escalation_id: str
    task_id: str
    doc_no: str = ""
    rule: str
    level: str
    step: int
    state: str
    title: str = ""
    message: str
    unit: str
    unit_id: str = ""
    recipients: list[dict[str, Any]] = Field(default_factory=list)
    opened_on: date | None = None
    raised_on: date | None = None
    raised_at: datetime
    next_on: date | None = None
    closed_on: date | None = None
    closed_reason: str = ""
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    ack_comment: str = ""


class AckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: Line = Field(default="", max_length=500, description="What the unit or the office says in signing.")
    by: Line = Field(
        default="", max_length=100, description="The person acknowledging, noted beside the token's holder (optional)."
    )


class HistoryPublic(BaseModel):
    task_id: str
    escalation_id: str
    on: date
    at: datetime
    kind: str
    level: str
    rule: str
    step: int
    actor: str
    note: str


class SilenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scope: Literal["task", "unit", "rule"] = Field(description="What is muted: a task id, a unit id or a rule name.")
    target: Line = Field(min_length=1, max_length=64)
    starts_on: date | None = Field(default=None, description="First muted China date; default today.")
    until: date = Field(description="Last muted China date.")
    reason: Line = Field(min_length=1, max_length=500)


class SilencePublic(BaseModel):
    id: int
    scope: str
    target: str
    starts_on: date
    until: date
    reason: str
    created_by: str
    created_at: datetime


class RulesPublic(BaseModel):
    source: str
    error: str | None
    rules: dict[str, Any]
