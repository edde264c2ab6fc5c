"""The envelope every Luoshi event carries."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field


def new_event_id() -> str:
    return uuid.uuid4().hex


class Event(BaseModel):
    """Base of every event: ids make consumers idempotent and JetStream de-duplicate."""

    model_config = ConfigDict(extra="ignore")

    event_id: str = Field(
        default_factory=new_event_id,
        description="Unique id of this event; used as the Nats-Msg-Id and as the inbox key of consumers.",
    )
    occurred_at: datetime = Field(
        default_factory=lambda: datetime.now(UTC),
        description="When the fact happened (the service clock, UTC).",
    )
    source: str = Field(default="", description="The service that published the event, e.g. `ingest`.")
    correlation_id: str | None = Field(
        default=None, description="Id shared by every event caused by one user action (the notice id, …)."
    )
    schema_version: int = Field(default=1, description="Version of this event's schema; changes are additive.")
