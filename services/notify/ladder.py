"""Which status changes escalate, to whom, and at which level."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from proto.progress import StatusChanged


@dataclass(frozen=True)
class Step:
    level: str
    unit: str
    message: str


def escalation_id(cause_event_id: str, level: str, unit: str) -> str:
    """Deterministic, so a redelivered status change raises the same escalation, not a new one."""
    return hashlib.sha1(f"{cause_event_id}|{level}|{unit}".encode()).hexdigest()[:24]


def steps_for(change: StatusChanged) -> list[Step]:
    """A task turning red is escalated (督办) to each host unit; yellow gets a reminder (催办)."""
    if change.new_flag == change.old_flag:
        return []
    if change.new_flag == "red":
        level, word = "red", "督办"
    elif change.new_flag == "yellow" and change.old_flag in (None, "blue"):
        level, word = "reminder", "催办"
    else:
        return []
    return [Step(level, unit, f"【{word}】任务 {change.task_id}：{change.reason}") for unit in change.host_units]
