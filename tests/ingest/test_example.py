"""The example notice `luoshi up` loads is dated in the current year, never in the future."""

from __future__ import annotations

from datetime import date

import pytest

from services.ingest.example import example_notice, example_text
from services.ingest.parsing.api import parse_document


@pytest.mark.parametrize(
    ("today", "issued"),
    [
        (date(2026, 11, 30), date(2026, 1, 20)),
        (date(2031, 1, 5), date(2031, 1, 5)),
        (date(2029, 7, 1), date(2029, 1, 20)),
    ],
)
def test_the_example_moves_to_the_current_year(today: date, issued: date) -> None:
    parsed = parse_document(example_notice(today), "example-notice.txt")
    assert parsed.doc.doc_no == f"示政发〔{today.year}〕1号"
    assert parsed.doc.year == today.year
    assert parsed.doc.issued_date == issued
    assert len(parsed.tasks) == 5
    assert {t.deadline.due_date.year for t in parsed.tasks if t.deadline} == {today.year}


def test_in_2026_the_example_is_the_shipped_file() -> None:
    """The tests' clocks stand in 2026 and upload the file as shipped: both must agree."""
    assert example_notice(date(2026, 3, 1)) == example_text().encode("utf-8")
