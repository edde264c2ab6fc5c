"""The blue/yellow/red rule: pure, configurable, explained in figures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from proto.progress import Flag


@dataclass(frozen=True)
class Thresholds:
    yellow_gap: float = 10.0
    red_gap: float = 30.0


@dataclass(frozen=True)
class Verdict:
    flag: Flag
    expected_percent: float
    reason: str


def expected_percent(start: date | None, due: date | None, today: date) -> float:
    """The share of the time between the notice's date and the due date that has passed."""
    if due is None:
        return 0.0
    if start is None or start >= due:
        return 100.0 if today >= due else 0.0
    elapsed = (today - start).days / (due - start).days
    return round(max(0.0, min(1.0, elapsed)) * 100, 1)


def judge(*, percent: float, start: date | None, due: date | None, today: date, thresholds: Thresholds) -> Verdict:
    expected = expected_percent(start, due, today)
    if percent >= 100:
        return Verdict("blue", expected, "已完成 / done")
    if due is not None and today > due:
        days = (today - due).days
        return Verdict("red", expected, f"已逾期 {days} 天，完成 {percent:g}% / overdue by {days} days at {percent:g}%")
    gap = expected - percent
    figures = f"完成 {percent:g}%，应达 {expected:g}%，落后 {gap:g} 个百分点"
    figures_en = f"{percent:g}% done, {expected:g}% expected, {gap:g} points behind"
    if gap > thresholds.red_gap:
        return Verdict("red", expected, f"严重滞后：{figures} / seriously behind: {figures_en}")
    if gap > thresholds.yellow_gap:
        return Verdict("yellow", expected, f"进度滞后：{figures} / behind: {figures_en}")
    return Verdict("blue", expected, f"正常推进：完成 {percent:g}%，应达 {expected:g}% / on track")
