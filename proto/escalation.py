"""`escalation.raised.<level>.<unit>`, published by notify."""

from __future__ import annotations

from pydantic import Field

from proto.envelope import Event


class EscalationRaised(Event):
    escalation_id: str = Field(description="Id of the escalation; repeats of one cause share it.")
    level: str = Field(description="Ladder level: reminder (催办), red (督办)…", examples=["red"])
    task_id: str = Field(description="The task that slipped.")
    unit: str = Field(description="The unit that must act.")
    unit_id: str | None = Field(
        default=None, description="Directory id of that unit; the last token of the subject when given."
    )
    message: str = Field(description="Chinese-first text for the supervisor.")
