"""Periods, deadlines and 'today' follow Beijing's date, whatever the UTC date of the instant."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session

from services.common.clock import CHINA
from services.common.errors import ApiError
from services.progress.extensions import request_extension
from services.progress.models import ProgressTask
from services.progress.reads import task_status
from services.progress.reports import record_report
from services.progress.schemas import ReportIn
from services.progress.status import Rules
from tests.progress.conftest import RULES, SUBJECTS, unit, upsert


def beijing(y: int, m: int, d: int, hh: int, mm: int) -> datetime:
    """A Beijing wall-clock time as the UTC instant the services store (UTC+8, no summer time)."""
    return datetime(y, m, d, hh, mm, tzinfo=CHINA).astimezone(UTC)


def report(session: Session, task_id: str, when: datetime, rules: Rules = RULES, **body: object):  # type: ignore[no-untyped-def]
    body.setdefault("percent", 10)
    answer, _new = record_report(
        session=session,
        subjects=SUBJECTS,
        principal=unit("甲局"),
        task_id=task_id,
        report=ReportIn.model_validate(body),
        idempotency_key=None,
        now=when,
        rules=rules,
    )
    return answer


def test_the_first_minute_of_a_month_in_beijing_counts_for_the_new_month(session: Session) -> None:
    tid = upsert(session)
    assert beijing(2026, 4, 1, 0, 1) == datetime(2026, 3, 31, 16, 1, tzinfo=UTC)
    assert report(session, tid, beijing(2026, 3, 31, 23, 59)).period == "2026-03"
    assert report(session, tid, beijing(2026, 4, 1, 0, 1)).period == "2026-04"
    with pytest.raises(ApiError) as early:  # 23:59 on the 31st: April has not started in Beijing
        report(session, tid, beijing(2026, 3, 31, 23, 59), period="2026-04")
    assert early.value.code == "period_in_future"
    assert report(session, tid, beijing(2026, 4, 1, 0, 1), period="2026-04").period == "2026-04"


def test_the_first_minute_of_a_xun_in_beijing_counts_for_the_new_xun(session: Session) -> None:
    rules = Rules(period="xun")
    tid = upsert(session, rules=rules)
    assert report(session, tid, beijing(2026, 4, 10, 23, 59), rules).period == "2026-04-上旬"
    assert report(session, tid, beijing(2026, 4, 11, 0, 1), rules).period == "2026-04-中旬"


def test_due_dates_and_expected_progress_use_the_beijing_date(session: Session) -> None:
    tid = upsert(session, issued=date(2026, 1, 1), due=date(2026, 12, 31))
    on_time = report(session, tid, beijing(2026, 12, 31, 23, 59), percent=50, period="2026-12")
    assert "逾期" not in on_time.reason and on_time.expected_percent == 100.0
    late = report(session, tid, beijing(2027, 1, 1, 0, 1), percent=50, period="2026-12")
    assert (late.flag, late.reason.split(" / ")[0]) == ("red", "已逾期 1 天，完成 50%")


def test_an_extension_may_be_asked_until_the_last_minute_of_the_due_date_in_beijing(session: Session) -> None:
    tid = upsert(session, due=date(2026, 6, 30))
    ask = {"session": session, "principal": unit("甲局"), "task_id": tid, "reason": "设备到货晚", "rules": RULES}
    with pytest.raises(ApiError) as late:
        request_extension(**ask, due_date=date(2026, 9, 30), now=beijing(2026, 7, 1, 0, 1))  # type: ignore[arg-type]
    assert late.value.code == "deadline_passed"
    made = request_extension(**ask, due_date=date(2026, 9, 30), now=beijing(2026, 6, 30, 23, 59))  # type: ignore[arg-type]
    assert made.previous_due_date == date(2026, 6, 30)


def test_days_since_the_last_report_count_beijing_dates(session: Session) -> None:
    tid = upsert(session)
    report(session, tid, beijing(2026, 3, 31, 23, 59))
    session.expire_all()
    stored = session.get(ProgressTask, tid)
    assert stored is not None and stored.last_report_at == beijing(2026, 3, 31, 23, 59)  # aware, UTC
    status = task_status(conn=session.connection(), task_id=tid, today=date(2026, 4, 1), zone=CHINA, limit=5, offset=0)
    assert status.days_since_last_report == 1  # 15:59 UTC on the 31st was already late evening in Beijing
