"""One step of the chase as it leaves the process: what delivery (issue 15) sends, to whom.

The ladder decides; delivery carries. Each raised step (a 临近提醒, the n-th 催办, a 督办, the
office head's turn) becomes one `OutgoingStep`, handed to the delivery planner inside the
transaction that records the step, so a step is never decided without its deliveries planned
and never delivered without being decided.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal, Protocol

from sqlmodel import Session

RecipientKind = Literal["unit", "post", "office", "office_head"]

# Ladder levels, lowest first: 临近提醒, 催办, 督办, the office head.
LEVELS = ("advance", "reminder", "red", "head")
LEVEL_NAMES = {"advance": "临近提醒", "reminder": "催办", "red": "督办", "head": "提级督办"}


@dataclass(frozen=True)
class Recipient:
    kind: RecipientKind
    id: str  # unit_id, post_id, "office" or "office_head"
    name: str  # the unit's name, the post's title, 督查室, 督查室主任
    holder: str | None = None  # a post's current holder, who hears it now
    copy: bool = False  # 抄送: told, not asked to act


@dataclass(frozen=True)
class OutgoingStep:
    step_id: str  # unique per step; the idempotency key of every delivery of it
    escalation_id: str
    task_id: str
    doc_no: str
    task_number: int
    level: str  # one of LEVELS
    rule: str  # advance_report, advance_due, report_missing, receipt_missing, red, unanswered, head
    step: int  # 1 for the first 催办, 2 for 第2次催办…
    title: str  # one line, e.g. 【第2次催办】济兖政发〔2025〕1号 第12项
    message: str  # Chinese text that stands on its own
    link: str  # the task in the console
    raised_on: date  # China date
    raised_at: datetime  # UTC instant
    recipients: tuple[Recipient, ...] = field(default_factory=tuple)
    leaders: tuple[str, ...] = ()  # post ids of the task's lead leaders, for subscription filters
    task_ids: tuple[str, ...] = ()  # a step about several tasks (a unit's 临近提醒): every one of them


class DeliveryPlanner(Protocol):
    """Writes the deliveries of a step in the caller's session; the caller commits."""

    def __call__(self, session: Session, step: OutgoingStep) -> None: ...


def plan_nothing(session: Session, step: OutgoingStep) -> None:
    """The planner until delivery channels are configured: the step is kept, nothing is sent."""
