from __future__ import annotations

from datetime import UTC, date, datetime

from pydantic import BaseModel, ConfigDict
from sqlmodel import Field, SQLModel

from services.common.params import Line
from services.common.timestamps import UtcDateTime


class Escalation(SQLModel, table=True):
    __tablename__ = "notify_escalation"

    escalation_id: str = Field(primary_key=True, max_length=32)
    level: str = Field(index=True, max_length=20)
    task_id: str = Field(index=True, max_length=64)
    unit: str = Field(index=True, max_length=200)
    unit_id: str = Field(default="", index=True, max_length=64)
    message: str
    raised_at: datetime = Field(default_factory=lambda: datetime.now(UTC), sa_type=UtcDateTime)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    acknowledged_by: str | None = Field(default=None, max_length=300)


class ClockState(SQLModel, table=True):
    """The last date a clock.tick was published for, so each date ticks once."""

    __tablename__ = "notify_clock"

    id: int = Field(default=1, primary_key=True)
    last_tick: date | None = None


class EscalationPublic(BaseModel):
    escalation_id: str
    level: str
    task_id: str
    unit: str
    unit_id: str = ""
    message: str
    raised_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None


class AckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    by: Line = Field(
        default="", max_length=100, description="The person acknowledging, noted beside the token's holder (optional)."
    )
