"""The blue/yellow/red rule and completion: pure, configurable, explained in figures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from proto.progress import Flag


@dataclass(frozen=True)
class Thresholds:
    yellow_gap: float = 10.0
    red_gap: float = 30.0
    yellow_missed: int = 1
    red_missed: int = 2
    receipt_days: int = 3  # working days


@dataclass(frozen=True)
class Verdict:
    flag: Flag
    expected_percent: float
    reason: str
    rule: str = "on_track"


def expected_percent(start: date | None, due: date | None, today: date) -> float:
    """The share of the time between the notice's date and the due date that has passed."""
    if due is None:
        return 0.0
    if start is None or start >= due:
        return 100.0 if today >= due else 0.0
    elapsed = (today - start).days / (due - start).days
    return round(max(0.0, min(1.0, elapsed)) * 100, 1)


def completion_from_quantities(targets: Sequence[float], values: Mapping[int, float]) -> float:
    """Mean achieved/target ratio over the task's quantities, each capped at 100%.

    A quantity nobody has reported a value for counts as 0: no figure is no evidence of progress.
    """
    ratios = [min(1.0, values.get(i, 0.0) / t) if t > 0 else 1.0 for i, t in enumerate(targets)]
    return round(sum(ratios) / len(ratios) * 100, 1) if ratios else 0.0


def judge(
    *,
    percent: float,
    start: date | None,
    due: date | None,
    today: date,
    thresholds: Thresholds,
    missed_periods: int = 0,
    closed: bool = False,
    unacknowledged_days: int = 0,
) -> Verdict:
    """The flag of one task. The worst applicable rule wins; its reason carries the figures.

    `unacknowledged_days` is the age in working days of the oldest assignment a host unit has not signed
    for (0 if none).
    """
    expected = expected_percent(start, due, today)
    if closed:
        return Verdict("blue", expected, "已办结 / closed", "closed")
    if percent >= 100:
        return Verdict("blue", expected, "已完成 / done", "done")
    if due is not None and today > due:
        days = (today - due).days
        return Verdict(
            "red", expected, f"已逾期 {days} 天，完成 {percent:g}% / overdue by {days} days at {percent:g}%", "overdue"
        )
    gap = round(expected - percent, 1)
    figures = f"完成 {percent:g}%，应达 {expected:g}%，落后 {gap:g} 个百分点"
    figures_en = f"{percent:g}% done, {expected:g}% expected, {gap:g} points behind"
    missed = f"已连续 {missed_periods} 个填报周期未报送进展 / {missed_periods} reporting periods missed"
    if gap > thresholds.red_gap:
        return Verdict("red", expected, f"严重滞后：{figures} / seriously behind: {figures_en}", "far_behind")
    if missed_periods >= thresholds.red_missed:
        return Verdict("red", expected, missed, "missed_periods")
    if gap > thresholds.yellow_gap:
        return Verdict("yellow", expected, f"进度滞后：{figures} / behind: {figures_en}", "behind")
    if missed_periods >= thresholds.yellow_missed:
        return Verdict("yellow", expected, missed, "missed_periods")
    if unacknowledged_days > thresholds.receipt_days:
        return Verdict(
            "yellow",
            expected,
            f"交办 {unacknowledged_days} 个工作日仍未签收 / not signed for after {unacknowledged_days} working days",
            "unacknowledged",
        )
    return Verdict("blue", expected, f"正常推进：完成 {percent:g}%，应达 {expected:g}% / on track", "on_track")
