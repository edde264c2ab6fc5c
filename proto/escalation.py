"""`escalation.raised.<level>.<unit>`, published by notify."""

from __future__ import annotations

from pydantic import Field

from proto.envelope import Event


class EscalationRaised(Event):
    escalation_id: str = Field(description="Id of the escalation; repeats of one cause share it.")
    level: str = Field(
        description="Ladder level: advance (临近提醒), reminder (催办), red (督办), head (提级督办)", examples=["red"]
    )
    task_id: str = Field(description="The task that slipped.")
    unit: str = Field(description="The unit that must act.")
    unit_id: str | None = Field(
        default=None, description="Directory id of that unit; the last token of the subject when given."
    )
    message: str = Field(description="Chinese-first text for the supervisor.")
    rule: str | None = Field(
        default=None,
        description="What raised it: advance_report, advance_due (临近提醒), report_missing, receipt_missing (催办), "
        "red, unanswered (督办), head (提级督办 to the office head).",
    )
    step: int = Field(default=1, description="The step of this escalation: 2 for 第2次催办.")
    title: str = Field(default="", description="One line: 【第2次催办】文号 第N项.")
    doc_no: str = Field(default="", description="文号 of the task's notice.")
    task_number: int | None = Field(default=None, description="The task's number in its notice.")
    leaders: list[str] = Field(default_factory=list, description="Post ids (or names) of the task's lead leaders.")
    recipients: list[str] = Field(
        default_factory=list, description="Everyone it is addressed to: unit names, posts with holders, 督查室."
    )
    link: str = Field(default="", description="The task in the console.")
