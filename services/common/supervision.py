"""Which notices are supervised and from when: the rules ingest and the registry share."""

from __future__ import annotations

from datetime import date
from typing import get_args

from proto.notice import Supervision
from services.common.errors import ApiError

STATES: tuple[str, ...] = get_args(Supervision)
# A start outside the notice's year by more than this is a typo, not a decision.
START_YEARS_AROUND = 1


def default_state(notice_year: int | None, today: date) -> Supervision:
    """A notice of the current year is chased; an older one is kept for reference only.

    Uploading past years' notices (to link and search them) must not turn their tasks red at
    once: they are long overdue by their own dates, and nobody can act on them now.
    """
    if notice_year is not None and notice_year < today.year:
        return "reference"
    return "supervised"


def check_start(start: date, notice_year: int | None) -> None:
    """Refuse a start date outside the notice's year ± `START_YEARS_AROUND` (422 `bad_start`)."""
    if notice_year is None or abs(start.year - notice_year) <= START_YEARS_AROUND:
        return
    raise ApiError(
        422,
        "bad_start",
        f"督办起始日 {start} 须在通知年度 {notice_year} 前后 {START_YEARS_AROUND} 年内",
        f"the supervision start {start} must lie within {START_YEARS_AROUND} year of the notice's year {notice_year}",
    )
