"""Pure rules: reporting periods, the flag, completion from quantities, staleness."""

from __future__ import annotations

from datetime import date

import pytest

from services.common.periods import missed_periods, parse_period, period_containing
from services.progress.flags import Thresholds, completion_from_quantities, judge
from services.progress.staleness import is_stale, similarity

T = Thresholds(yellow_gap=10, red_gap=30, yellow_missed=1, red_missed=2, receipt_days=3)
START, DUE = date(2026, 1, 1), date(2026, 12, 31)
JULY = date(2026, 7, 2)  # about half the year gone


@pytest.mark.parametrize(
    ("kind", "day", "label", "start", "end"),
    [
        ("month", date(2026, 2, 14), "2026-02", date(2026, 2, 1), date(2026, 2, 28)),
        ("xun", date(2026, 2, 10), "2026-02-上旬", date(2026, 2, 1), date(2026, 2, 10)),
        ("xun", date(2026, 2, 11), "2026-02-中旬", date(2026, 2, 11), date(2026, 2, 20)),
        ("xun", date(2026, 2, 28), "2026-02-下旬", date(2026, 2, 21), date(2026, 2, 28)),
        ("xun", date(2026, 3, 31), "2026-03-下旬", date(2026, 3, 21), date(2026, 3, 31)),
        ("week", date(2026, 1, 1), "2026-W01", date(2025, 12, 29), date(2026, 1, 4)),
        ("week", date(2027, 1, 1), "2026-W53", date(2026, 12, 28), date(2027, 1, 3)),
    ],
)
def test_periods_by_kind(kind: str, day: date, label: str, start: date, end: date) -> None:
    period = period_containing(kind, day)
    assert (period.label, period.start, period.end) == (label, start, end)
    assert parse_period(kind, label) == period


@pytest.mark.parametrize(
    ("kind", "label"), [("month", "2026-13"), ("month", "2026-W10"), ("xun", "2026-03"), ("week", "2026-W60")]
)
def test_bad_period_labels(kind: str, label: str) -> None:
    with pytest.raises(ValueError, match="is not a"):
        parse_period(kind, label)


def test_missed_periods_count_after_grace() -> None:
    # Assigned 1 March, monthly, 5 days' grace: March is missed from 6 April, April from 6 May.
    since = date(2026, 3, 1)
    assert missed_periods("month", since=since, today=date(2026, 4, 5), grace_days=5) == 0
    assert missed_periods("month", since=since, today=date(2026, 4, 6), grace_days=5) == 1
    assert missed_periods("month", since=since, today=date(2026, 5, 6), grace_days=5) == 2
    assert missed_periods("xun", since=since, today=date(2026, 3, 25), grace_days=0) == 2
    assert missed_periods("week", since=date(2026, 3, 2), today=date(2026, 3, 16), grace_days=1) == 1


@pytest.mark.parametrize(
    ("kwargs", "flag", "rule"),
    [
        ({"percent": 50}, "blue", "on_track"),
        ({"percent": 35}, "yellow", "behind"),
        ({"percent": 15}, "red", "far_behind"),
        ({"percent": 50, "missed_periods": 1}, "yellow", "missed_periods"),
        ({"percent": 50, "missed_periods": 2}, "red", "missed_periods"),
        ({"percent": 50, "unacknowledged_days": 3}, "blue", "on_track"),
        ({"percent": 50, "unacknowledged_days": 4}, "yellow", "unacknowledged"),
        ({"percent": 100, "missed_periods": 5}, "blue", "done"),
        ({"percent": 10, "closed": True}, "blue", "closed"),
        ({"percent": 99, "today": date(2027, 1, 5)}, "red", "overdue"),
        ({"percent": 100, "today": date(2027, 1, 5)}, "blue", "done"),
    ],
)
def test_each_flag_rule(kwargs: dict, flag: str, rule: str) -> None:  # type: ignore[type-arg]
    args = {"start": START, "due": DUE, "today": JULY, "thresholds": T, **kwargs}
    verdict = judge(**args)
    assert (verdict.flag, verdict.rule) == (flag, rule)
    assert " / " in verdict.reason


def test_reasons_carry_the_figures() -> None:
    behind = judge(percent=35, start=START, due=DUE, today=JULY, thresholds=T)
    assert "完成 35%" in behind.reason and "应达 50%" in behind.reason and "落后 15 个百分点" in behind.reason
    missed = judge(percent=50, start=START, due=DUE, today=JULY, thresholds=T, missed_periods=2)
    assert "2 个填报周期" in missed.reason


def test_thresholds_are_configuration() -> None:
    strict = Thresholds(yellow_gap=1, red_gap=5, yellow_missed=3, red_missed=4)
    assert judge(percent=40, start=START, due=DUE, today=JULY, thresholds=strict).flag == "red"
    assert judge(percent=50, start=START, due=DUE, today=JULY, thresholds=strict, missed_periods=2).flag == "blue"


def test_completion_from_quantities() -> None:
    assert completion_from_quantities([20, 150], {0: 10, 1: 150}) == 75.0
    assert completion_from_quantities([20, 150], {0: 40}) == 50.0  # capped at 100%, the other counts 0
    assert completion_from_quantities([], {}) == 0.0


def test_staleness_by_character_similarity() -> None:
    before = "一期项目主体施工中，已完成投资3.2亿元，累计新增规上企业8家。"
    assert similarity(before, before) == 1.0
    assert is_stale("一期项目主体施工中，已完成投资3.2亿元，累计新增规上企业8家", before, 0.9)
    assert not is_stale("二期厂房封顶，设备进场调试，新增规上企业12家，完成全年目标六成。", before, 0.9)
    assert not is_stale("任何内容", None, 0.9)
    assert not is_stale("", "", 0.9)
