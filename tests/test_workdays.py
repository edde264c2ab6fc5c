"""China's working days on real arrangements: 国庆+中秋 2025, the 2026 Spring Festival, and beyond."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from services.common import workdays
from services.common.workdays import (
    WorkCalendar,
    add_working_days,
    covered_years,
    is_covered,
    is_working_day,
    next_working_day,
    working_days_between,
)
from services.common.workdaysfile import WorkdaysFileError, load_calendar
from services.progress.settings import ProgressSettings

UNCOVERED = covered_years().stop  # the first year the package does not know yet


def test_three_working_days_after_30_september_2025_cross_the_national_day_holiday() -> None:
    # 1–8 Oct off; Sat 11 Oct is a make-up day: 9, 10 and 11 October.
    assert add_working_days(date(2025, 9, 30), 3) == date(2025, 10, 11)
    assert next_working_day(date(2025, 9, 30)) == date(2025, 10, 9)
    assert working_days_between(date(2025, 9, 30), date(2025, 10, 11)) == 3


def test_a_make_up_weekend_day_is_a_working_day_and_a_holiday_never_is() -> None:
    assert is_working_day(date(2025, 9, 28))  # Sunday 调休
    assert is_working_day(date(2025, 10, 11))  # Saturday 调休
    assert not any(is_working_day(date(2025, 10, d)) for d in range(1, 9))
    assert not is_working_day(date(2025, 10, 12))  # an ordinary Sunday


def test_negative_n_lands_on_a_working_day_before() -> None:
    assert add_working_days(date(2025, 10, 9), -1) == date(2025, 9, 30)
    assert add_working_days(date(2025, 10, 9), -3) == date(2025, 9, 28)  # Sunday 调休 counts
    assert add_working_days(date(2025, 10, 5), -1) == date(2025, 9, 30)  # from inside the holiday
    assert working_days_between(date(2025, 10, 11), date(2025, 9, 30)) == -3
    assert add_working_days(date(2025, 10, 9), 0) == date(2025, 10, 9)


def test_the_2026_spring_festival() -> None:
    # 15–23 Feb off; Sat 14 Feb and Sat 28 Feb are make-up days.
    assert is_working_day(date(2026, 2, 14)) and is_working_day(date(2026, 2, 28))
    assert not any(is_working_day(date(2026, 2, d)) for d in range(15, 24))
    assert add_working_days(date(2026, 2, 13), 2) == date(2026, 2, 24)
    assert add_working_days(date(2026, 2, 24), -1) == date(2026, 2, 14)


def test_counts_cross_years_both_ways() -> None:
    # 2025: 261 weekdays, 18 of them holidays, 5 make-up weekend days.
    assert working_days_between(date(2024, 12, 31), date(2025, 12, 31)) == 248
    assert add_working_days(date(2025, 12, 31), 1) == date(2026, 1, 4)  # 1–3 Jan off; Sun 4 Jan is 调休
    assert is_working_day(date(2026, 1, 4))
    assert add_working_days(date(2026, 1, 4), -1) == date(2025, 12, 31)


def test_agrees_with_a_day_by_day_count() -> None:
    start = date(2025, 1, 1)
    for n in (1, 5, 40, 300):
        day, left = start, n
        while left:
            day += timedelta(days=1)
            left -= is_working_day(day)
        assert add_working_days(start, n) == day
        assert working_days_between(start, day) == n


def test_an_uncovered_year_falls_back_to_weekends_with_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    assert not is_covered(UNCOVERED) and is_covered(2025)
    calendar = WorkCalendar()
    with caplog.at_level(logging.WARNING, logger=workdays.__name__):
        first_monday = date(UNCOVERED, 1, 1) + timedelta(days=(7 - date(UNCOVERED, 1, 1).weekday()) % 7)
        assert calendar.is_working_day(first_monday)
        assert not calendar.is_working_day(first_monday + timedelta(days=5))
        calendar.is_working_day(first_monday + timedelta(days=1))
    warnings = [r for r in caplog.records if str(UNCOVERED) in r.getMessage()]
    assert len(warnings) == 1 and "weekends" in warnings[0].getMessage()


def test_the_office_file_adds_and_overrides_days(tmp_path: Path) -> None:
    path = tmp_path / "workdays.yaml"
    path.write_text(
        f"# 国务院办公厅 {UNCOVERED} 年安排（部分）\n"
        f"holidays: [{UNCOVERED}-01-01, 2025-10-09]\n"
        f"workdays:\n  - '{UNCOVERED}-01-02'\n  - 2025-10-12\n",
        encoding="utf-8",
    )
    calendar = load_calendar(path)
    assert not calendar.is_working_day(date(2025, 10, 9))  # the office wins over the package
    assert calendar.is_working_day(date(2025, 10, 12))
    assert calendar.add_working_days(date(2025, 9, 30), 3) == date(2025, 10, 12)  # 10, 11 and the office's 12
    assert not calendar.is_working_day(date(UNCOVERED, 1, 1))
    assert calendar.is_working_day(date(UNCOVERED, 1, 2))
    assert is_working_day(date(2025, 10, 9))  # the default calendar is untouched


def test_a_json_office_file(tmp_path: Path) -> None:
    path = tmp_path / "workdays.json"
    path.write_text('{"holidays": ["2025-10-09"], "workdays": []}', encoding="utf-8")
    assert not load_calendar(path).is_working_day(date(2025, 10, 9))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("holidays: [2025-10-09\nworkdays: []\n", "line 2: not YAML or JSON"),
        ("holidays:\n  - 2025-10-09\n  - 2025-13-01\n", "line 3: holidays[1] is not a date"),
        ("workdays:\n  - next monday\n", "line 2: workdays[0] is not a date"),
        ("holidays: 2025-10-09\n", "line 1: 'holidays' must be a list"),
        ("holidays: []\nrestdays: []\n", "line 2: unknown field 'restdays'"),
        ("- 2025-10-09\n", "line 1: expected a mapping"),
        ("holidays: [2025-10-09]\nworkdays: [2025-10-09]\n", "both holidays and workdays: 2025-10-09"),
    ],
)
def test_a_bad_office_file_is_refused_naming_the_file_and_line(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "workdays.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(WorkdaysFileError) as refused:
        load_calendar(path)
    assert str(path) in str(refused.value) and expected in str(refused.value)


def test_a_bad_or_missing_office_file_stops_the_service_settings(tmp_path: Path) -> None:
    path = tmp_path / "workdays.yaml"
    path.write_text("holidays: [tomorrow]\n", encoding="utf-8")
    with pytest.raises(ValidationError, match=r"workdays\.yaml, line 1: holidays\[0\] is not a date"):
        ProgressSettings(workdays_file=path)
    with pytest.raises(ValidationError, match="cannot be read"):
        ProgressSettings(workdays_file=tmp_path / "missing.yaml")


def test_the_progress_rules_take_the_office_file(tmp_path: Path) -> None:
    from services.progress.status import Rules

    path = tmp_path / "workdays.yaml"
    path.write_text("holidays: [2025-10-09]\n", encoding="utf-8")
    rules = Rules.from_settings(ProgressSettings(workdays_file=path))
    assert not rules.calendar.is_working_day(date(2025, 10, 9))
