"""The blue/yellow/red rule and completion: pure, configurable, explained in figures."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

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


def expected_percent(
    start: date | None, due: date | None, today: date, milestones: Sequence[Mapping[str, Any]] = ()
) -> float:
    """序时进度: the share of the work expected by `today`.

    A straight line from the notice's date to the due date; for a task due in stages, a line
    through its milestones instead (`上半年完成100个，年底前完成200个`: 50% by June 30).
    """
    if due is None:
        return 0.0
    if start is None or start >= due:
        return 100.0 if today >= due else 0.0
    points = [(start, 0.0), *milestone_points(start, due, milestones), (due, 100.0)]
    for (d0, p0), (d1, p1) in itertools.pairwise(points):
        if today <= d1:
            share = max(0.0, (today - d0).days / (d1 - d0).days)
            return round(p0 + (p1 - p0) * share, 1)
    return 100.0


def milestone_points(start: date, due: date, milestones: Sequence[Mapping[str, Any]]) -> list[tuple[date, float]]:
    """(date, expected %) of each milestone strictly between start and due.

    By figure where every milestone names one in the same unit (100个 of 200个: 50%), else in
    equal steps (the second of three: 67%).
    """
    steps = sorted(((d, m) for m in milestones if (d := _as_date(m.get("due_date"))) is not None), key=lambda dm: dm[0])
    if len(steps) < 2:
        return []
    values = [m.get("value") for _d, m in steps]
    units = {m.get("unit") for _d, m in steps}
    last = values[-1]
    by_figure = (
        all(isinstance(v, int | float) for v in values)
        and len(units) == 1
        and isinstance(last, int | float)
        and last > 0
        and all(a <= b for a, b in itertools.pairwise(values))
    )
    points = []
    for i, (d, _m) in enumerate(steps):
        percent = values[i] / last * 100 if by_figure else (i + 1) / len(steps) * 100
        if start < d < due:
            points.append((d, round(percent, 1)))
    return points


def _as_date(value: object) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


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
    milestones: Sequence[Mapping[str, Any]] = (),
) -> Verdict:
    """The flag of one task. The worst applicable rule wins; its reason carries the figures.

    `unacknowledged_days` is the age in working days of the oldest assignment a host unit has not signed
    for (0 if none).
    """
    expected = expected_percent(start, due, today, milestones)
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


def day_expected_passes(
    start: date, due: date, percent: float, milestones: Sequence[Mapping[str, Any]] = ()
) -> date | None:
    """The first day (to within a day of rounding) on which `expected_percent` exceeds `percent`, along
    the milestones if any; None
    when it never does before the due date. For the judgement-date arithmetic (when the gap to
    序时进度 can next cross a threshold) of a task paced by milestones."""
    if start >= due or percent >= 100:
        return None
    points = [(start, 0.0), *milestone_points(start, due, milestones), (due, 100.0)]
    for (d0, p0), (d1, p1) in itertools.pairwise(points):
        if p1 > percent:
            share = max(0.0, (percent - p0) / (p1 - p0))
            return d0 + timedelta(days=int(share * (d1 - d0).days) + 1)
    return None
