"""`progress.reported` and `status.changed`, published by the progress service."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from proto.envelope import Event

Flag = Literal["blue", "yellow", "red"]


class ProgressReported(Event):
    """A unit's progress report, durably recorded."""

    report_id: str = Field(description="Id of the recorded report.")
    task_id: str = Field(description="Stable id of the task reported on.")
    unit: str = Field(description="The reporting unit.")
    period: str | None = Field(default=None, description="Reporting period, e.g. 2025-03 or 2025-W10.")
    percent: float = Field(ge=0, le=100, description="完成情况: completion in percent.")
    narrative: str = Field(default="", description="工作进展.")
    unit_id: str | None = Field(default=None, description="Directory id of the reporting unit (subject-safe ASCII).")
    completion: float | None = Field(
        default=None, description="Completion in percent this report gives: the percent, or the quantities' ratios."
    )
    quantities: dict[str, float] = Field(
        default_factory=dict, description='Value reached per task quantity, keyed by its index ("0", "1"…).'
    )
    stale: bool = Field(
        default=False, description="The narrative repeats the unit's previous period's almost verbatim."
    )


class StatusChanged(Event):
    """A task's flag changed; `reason` says why in figures."""

    task_id: str = Field(description="Stable id of the task.")
    old_flag: Flag | None = Field(default=None, description="The flag before; None for a new task.")
    new_flag: Flag = Field(
        description="The flag now: blue (on track), yellow (lagging), red (seriously behind or overdue)."
    )
    percent: float = Field(description="Completion in percent.")
    expected_percent: float = Field(description="Where the task should be by now, in percent.")
    reason: str = Field(description="Chinese-first explanation with the figures.")
    host_units: list[str] = Field(
        default_factory=list,
        description="Host units, who must act; when `host_unit_ids` is given, the name of each id in the same order.",
    )
    leaders: list[str] = Field(default_factory=list, description="Lead leaders, who answer for the task.")
    host_unit_ids: list[str] = Field(
        default_factory=list, description="Directory ids of every host unit (groups expanded), for escalation subjects."
    )
    rule: str | None = Field(
        default=None,
        description="The rule that set the flag: on_track, behind, far_behind, overdue, missed_periods, "
        "unacknowledged, done, closed, baseline (supervision has only just started) or reference "
        "(a notice that is not supervised).",
    )
    supervised: bool = Field(
        default=True, description="False for a task of a notice that is not supervised: nothing is raised for it."
    )
    period_kind: str | None = Field(
        default=None, description="The task's reporting period: month, xun (旬) or week; None: the default month."
    )
    reported_through: date | None = Field(
        default=None, description="The last day of the latest reporting period a report covers; None: never."
    )


class ReceiptSigned(Event):
    """A host unit signed for (签收) a task assigned to it."""

    task_id: str = Field(description="Stable id of the task.")
    unit_id: str = Field(description="Directory id of the unit that signed.")
