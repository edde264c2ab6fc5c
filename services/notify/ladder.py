"""Which status changes escalate, to whom, and at which level."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from proto.progress import StatusChanged
from proto.subjects import unit_token


@dataclass(frozen=True)
class Step:
    level: str
    unit: str
    message: str
    unit_id: str


def escalation_id(cause_event_id: str, level: str, unit: str) -> str:
    """Deterministic, so a redelivered status change raises the same escalation, not a new one."""
    return hashlib.sha1(f"{cause_event_id}|{level}|{unit}".encode()).hexdigest()[:24]


def steps_for(change: StatusChanged) -> list[Step]:
    """A task turning red is escalated (督办) to each host unit; yellow gets a reminder (催办).

    A task of a notice that is not supervised raises nothing, whatever its flag: progress keeps
    such tasks blue, and this guards against an event from before it did.
    """
    if change.new_flag == change.old_flag or not change.supervised:
        return []
    if change.new_flag == "red":
        level, word = "red", "督办"
    elif change.new_flag == "yellow" and change.old_flag in (None, "blue"):
        level, word = "reminder", "催办"
    else:
        return []
    message = f"【{word}】任务 {change.task_id}：{change.reason}"
    if change.host_unit_ids:
        # Ids come with the names of the same units in the same order; an id without a name is its own label.
        names = change.host_units if len(change.host_units) == len(change.host_unit_ids) else change.host_unit_ids
        return [Step(level, name, message, uid) for uid, name in zip(change.host_unit_ids, names, strict=True)]
    return [Step(level, unit, message, unit_token(unit)) for unit in change.host_units]
