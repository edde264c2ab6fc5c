from __future__ import annotations

from datetime import date

import pytest

from services.progress.flags import Thresholds, expected_percent, judge

T = Thresholds(yellow_gap=10, red_gap=30)
START, DUE = date(2026, 1, 1), date(2026, 12, 31)


def test_expected_percent_is_elapsed_time_share() -> None:
    assert expected_percent(START, DUE, date(2026, 1, 1)) == 0
    assert expected_percent(START, DUE, date(2026, 7, 2)) == pytest.approx(50, abs=0.5)
    assert expected_percent(START, DUE, date(2027, 3, 1)) == 100
    assert expected_percent(START, None, date(2026, 7, 1)) == 0


@pytest.mark.parametrize(
    ("percent", "today", "flag"),
    [
        (50, date(2026, 7, 2), "blue"),
        (35, date(2026, 7, 2), "yellow"),
        (15, date(2026, 7, 2), "red"),
        (99, date(2027, 1, 5), "red"),
        (100, date(2027, 1, 5), "blue"),
    ],
)
def test_flag_rules(percent: float, today: date, flag: str) -> None:
    verdict = judge(percent=percent, start=START, due=DUE, today=today, thresholds=T)
    assert verdict.flag == flag
    assert " / " in verdict.reason


def test_thresholds_are_configuration() -> None:
    strict = Thresholds(yellow_gap=1, red_gap=5)
    assert judge(percent=40, start=START, due=DUE, today=date(2026, 7, 2), thresholds=strict).flag == "red"
