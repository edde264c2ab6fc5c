"""A bulletin's figures against hand-computed ones: units reporting on time, late and never.

The notice 示政发〔2026〕9号 (issued 2026-01-01) has seven tasks, assigned on 2026-09-01 and
reported monthly (deadline: the period's end + 5 days). The November bulletin counts the reports
due in November: October's, due 2026-11-05. Tasks 1–5 are due 2027-06-30, so on 2026-11-30 a
task is expected at 333/545 = 61.1% (on 2026-10-31, 303/545 = 55.6%).

| task | hosts | leader | what happens | flag on 10-31 | flag on 11-30 |
| 1 | 甲局 | 王明 | Sep 60% on 10-03, Oct 70% on 11-03 | blue | blue |
| 2 | 乙局 | 王明 | Oct 65% on 11-20 (late) | red (0%) | blue: recovered |
| 3 | 丙局 | 王明 | Sep 30% on 10-03, then nothing | yellow (25.6 behind) | red (31.1 behind): turned red |
| 4 | 丁局 | 李华 | Oct 80% at 12-01 00:01 Beijing: after the period | red | red (0%) |
| 5 | 甲局, 丙局 | 李华 | 甲局 Sep 30% on 10-03, Oct 40% on 11-03; 丙局 never | yellow | yellow (21.1 behind) |
| 6 | 乙局 | 李华 | due 11-15; Oct 90% on 11-04; 办结 approved 11-10 | red | blue, closed on time |
| 7 | 丁局 | 李华 | due 11-20; Oct 50% on 11-02 | red | red, overdue |
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session

from services.common.clock import CHINA
from services.common.errors import ApiError
from services.progress import bulletins, closeout, receipts
from services.progress.bulletin_figures import Options
from services.progress.bulletin_periods import parse
from services.progress.models import BulletinMark
from services.progress.reads import period_rollups
from services.progress.reports import record_report
from services.progress.schemas import ReportIn
from tests.progress.conftest import DOC, OFFICE, RULES, SUBJECTS, unit, upsert

LONG, SHORT6, SHORT7 = date(2027, 6, 30), date(2026, 11, 15), date(2026, 11, 20)
LAYOUT = bulletins.Layout(options=Options(weights={"on_time": 40, "flag_mix": 40, "closed_on_time": 20}, top=1))
TASKS = {
    1: (("甲局",), ("王明",), LONG),
    2: (("乙局",), ("王明",), LONG),
    3: (("丙局",), ("王明",), LONG),
    4: (("丁局",), ("李华",), LONG),
    5: (("甲局", "丙局"), ("李华",), LONG),
    6: (("乙局",), ("李华",), SHORT6),
    7: (("丁局",), ("李华",), SHORT7),
}


def beijing(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=CHINA).astimezone(UTC)


def report(session: Session, number: int, who: str, percent: float, period: str, at: datetime) -> None:
    record_report(
        session=session,
        subjects=SUBJECTS,
        principal=unit(who),
        task_id=f"t-{number}",
        report=ReportIn(percent=percent, period=period, narrative=f"{who}{period}进展"),
        idempotency_key=None,
        now=at,
        rules=RULES,
    )


def build(session: Session) -> None:
    for number, (hosts, leaders, due) in TASKS.items():
        upsert(session, number=number, hosts=hosts, cos=(), leaders=leaders, due=due, today=date(2026, 9, 1))
        for host in hosts:
            receipts.acknowledge(
                session=session,
                subjects=SUBJECTS,
                principal=unit(host),
                task_id=f"t-{number}",
                now=beijing(date(2026, 9, 2)),
                rules=RULES,
            )
    session.commit()
    report(session, 1, "甲局", 60, "2026-09", beijing(date(2026, 10, 3)))
    report(session, 5, "甲局", 30, "2026-09", beijing(date(2026, 10, 3)))
    report(session, 3, "丙局", 30, "2026-09", beijing(date(2026, 10, 3)))
    report(session, 7, "丁局", 50, "2026-10", beijing(date(2026, 11, 2)))
    report(session, 1, "甲局", 70, "2026-10", beijing(date(2026, 11, 3)))
    report(session, 5, "甲局", 40, "2026-10", beijing(date(2026, 11, 3)))
    report(session, 6, "乙局", 90, "2026-10", beijing(date(2026, 11, 4)))
    asked = closeout.request_closeout(
        session=session, principal=unit("乙局"), task_id="t-6", summary="已完成", now=beijing(date(2026, 11, 9))
    )
    closeout.decide_closeout(
        session=session,
        subjects=SUBJECTS,
        principal=OFFICE,
        closeout_id=asked.closeout_id,
        approve=True,
        comment="",
        now=beijing(date(2026, 11, 10)),
        rules=RULES,
    )
    report(session, 2, "乙局", 65, "2026-10", beijing(date(2026, 11, 20)))
    # One minute after November ends in Beijing: not in November's bulletin.
    report(session, 4, "丁局", 80, "2026-10", beijing(date(2026, 12, 1), 0, 1))
    session.add(
        BulletinMark(
            escalation_id="e-in",
            task_id="t-3",
            unit_id=unit("丙局").unit_id or "",
            message="提级督办",
            raised_at=beijing(date(2026, 11, 15)),
        )
    )
    session.add(
        BulletinMark(
            escalation_id="e-out",
            task_id="t-4",
            unit_id=unit("丁局").unit_id or "",
            message="提级督办",
            raised_at=beijing(date(2026, 12, 1), 1),
        )
    )
    session.commit()


def make(session: Session, label: str, now: datetime) -> Any:
    return bulletins.create_draft(
        session=session, doc_nos=[DOC], period=parse(label), rules=RULES, layout=LAYOUT, now=now, actor="office"
    )


def numbers(rows: list[dict[str, Any]]) -> list[int]:
    return [r["number"] for r in rows]


@pytest.fixture
def november(session: Session) -> dict[str, Any]:
    build(session)
    october = make(session, "2026-10", beijing(date(2026, 12, 2)))
    bulletins.publish(
        session=session,
        subjects=SUBJECTS,
        bulletin_id=october.bulletin_id,
        rules=RULES,
        layout=LAYOUT,
        now=beijing(date(2026, 12, 2)),
        actor="office",
    )
    return make(session, "2026-11", beijing(date(2026, 12, 3))).figures  # type: ignore[no-any-return]


def test_overall_figures(november: dict[str, Any]) -> None:
    overall = november["overall"]
    assert {k: overall[k] for k in ("total", "blue", "yellow", "red", "closed", "overdue")} == {
        "total": 7,
        "blue": 3,
        "yellow": 1,
        "red": 3,
        "closed": 1,
        "overdue": 1,
    }
    assert (
        overall["reports_due"],
        overall["reports_on_time"],
        overall["reports_late"],
        overall["reports_missing"],
    ) == (8, 4, 1, 3)
    assert (overall["on_time_rate"], overall["completion_rate"]) == (50.0, 14.3)


def test_what_changed_since_the_previous_bulletin(november: dict[str, Any]) -> None:
    changed = november["changes"]
    assert numbers(changed["turned_red"]) == [3] and changed["turned_red"][0]["was"] == "yellow"
    assert "落后 31.1 个百分点" in changed["turned_red"][0]["reason"]
    assert numbers(changed["recovered"]) == [2] and changed["recovered"][0]["was"] == "red"
    assert numbers(changed["closed"]) == [6]
    assert november["previous"]["doc_no"] == "兖督通〔2026〕1号"


def test_units_and_their_ranking(november: dict[str, Any]) -> None:
    rows = {r["name"]: r for r in november["units"]}
    assert [(r["name"], r["score"], r["rank"]) for r in november["units"]] == [
        ("甲局", 90.0, 1),
        ("乙局", 80.0, 2),
        ("丙局", 30.0, 3),
        ("丁局", 20.0, 4),
    ]
    assert {n: (r["blue"], r["yellow"], r["red"]) for n, r in rows.items()} == {
        "甲局": (1, 1, 0),
        "乙局": (2, 0, 0),
        "丙局": (0, 1, 1),
        "丁局": (0, 0, 2),
    }
    assert {n: (r["on_time_rate"], r["completion_rate"]) for n, r in rows.items()} == {
        "甲局": (100.0, 0.0),
        "乙局": (50.0, 50.0),
        "丙局": (0.0, 0.0),
        "丁局": (50.0, 0.0),
    }
    assert (november["ranking"]["top"], november["ranking"]["bottom"]) == (["甲局"], ["丁局"])


def test_leaders(november: dict[str, Any]) -> None:
    rows = {r["name"]: r for r in november["leaders"]}
    assert (rows["王明"]["total"], rows["王明"]["blue"], rows["王明"]["red"], rows["王明"]["on_time_rate"]) == (
        3,
        2,
        1,
        33.3,
    )
    lihua = rows["李华"]
    assert (lihua["blue"], lihua["yellow"], lihua["red"], lihua["on_time_rate"], lihua["completion_rate"]) == (
        1,
        1,
        2,
        60.0,
        25.0,
    )


def test_red_and_yellow_tasks_units_not_reporting_and_marks(november: dict[str, Any]) -> None:
    assert [(r["number"], r["flag"]) for r in november["flagged"]] == [
        (3, "red"),
        (4, "red"),
        (7, "red"),
        (5, "yellow"),
    ]
    assert november["flagged"][2]["reason"] == "已逾期 10 天，完成 50%"
    assert [(r["name"], r["missing"], r["late"], r["missing_tasks"]) for r in november["not_reported"]] == [
        ("丙局", 2, 0, [3, 5]),
        ("丁局", 1, 0, [4]),
        ("乙局", 0, 1, []),
    ]
    assert [(r["number"], r["message"]) for r in november["marked"]] == [(3, "提级督办")]


def test_the_same_period_gives_the_same_figures_whenever_made(session: Session, november: dict[str, Any]) -> None:
    report(session, 3, "丙局", 99, "2026-11", beijing(date(2026, 12, 10)))
    again = make(session, "2026-11", beijing(date(2026, 12, 20)))
    assert again.figures == november


def test_a_period_with_a_report_a_minute_before_its_end(session: Session) -> None:
    build(session)
    report(session, 4, "丁局", 80, "2026-10", beijing(date(2026, 11, 30), 23, 59))
    figures = make(session, "2026-11", beijing(date(2026, 12, 3))).figures
    row = next(r for r in figures["units"] if r["name"] == "丁局")
    assert (row["reports_late"], row["reports_missing"], row["red"], row["blue"]) == (1, 0, 1, 1)


def test_publishing_numbers_per_year_and_refuses_twice(session: Session) -> None:
    build(session)
    first = make(session, "2026-10", beijing(date(2026, 12, 2)))
    second = make(session, "2026-11", beijing(date(2026, 12, 2)))
    for row in (first, second):
        bulletins.publish(
            session=session,
            subjects=SUBJECTS,
            bulletin_id=row.bulletin_id,
            rules=RULES,
            layout=LAYOUT,
            now=beijing(date(2026, 12, 3)),
            actor="office",
        )
    assert (first.doc_no, second.doc_no) == ("兖督通〔2026〕1号", "兖督通〔2026〕2号")
    for attempt in (
        lambda: bulletins.publish(
            session=session,
            subjects=SUBJECTS,
            bulletin_id=first.bulletin_id,
            rules=RULES,
            layout=LAYOUT,
            now=beijing(date(2026, 12, 4)),
            actor="office",
        ),
        lambda: bulletins.edit(
            session=session,
            bulletin_id=first.bulletin_id,
            comments="改",
            main_to=None,
            copy_to=None,
            now=beijing(date(2026, 12, 4)),
        ),
    ):
        with pytest.raises(ApiError) as refused:
            attempt()
        assert (refused.value.status, refused.value.code) == (409, "bulletin_published")
    session.expire_all()
    assert bulletins.get(session, first.bulletin_id).comments == ""


@pytest.mark.parametrize(
    ("label", "start", "end", "code"),
    [
        ("2026-13", None, None, "period_invalid"),
        ("2026-Q5", None, None, "period_invalid"),
        ("上个月", None, None, "period_invalid"),
        (None, date(2026, 11, 10), date(2026, 11, 1), "period_reversed"),
        ("2027-01", None, None, "period_in_future"),
        ("2026-12", None, None, "period_not_over"),
        (None, None, None, "period_missing"),
        ("2026-11", date(2026, 11, 1), None, "period_ambiguous"),
    ],
)
def test_bad_periods(label: str | None, start: date | None, end: date | None, code: str) -> None:
    with pytest.raises(ApiError) as refused:
        bulletins.period_of(label=label, start=start, end=end, today=date(2026, 12, 5))
    assert (refused.value.status, refused.value.code) == (422, code)


def test_period_labels() -> None:
    assert (parse("2026-Q4").start, parse("2026-Q4").end) == (date(2026, 10, 1), date(2026, 12, 31))
    assert (parse("2026-11-下旬").start, parse("2026-11-下旬").end) == (date(2026, 11, 21), date(2026, 11, 30))
    assert parse("2026-11-01~2026-11-15").end - parse("2026-11-01~2026-11-15").start == timedelta(days=14)


def test_roll_ups_as_of_a_period_sorted_by_score(session: Session) -> None:
    build(session)
    upsert(session, number=1, hosts=("甲局",), cos=(), doc="示政发〔2026〕10号", notice_id="n2", today=date(2026, 9, 1))

    def ask(**kw: Any) -> Any:
        base: dict[str, Any] = {"by": "unit", "notices": [DOC], "period": "2026-11", "sort": "score"}
        return period_rollups(
            session=session, today=date(2026, 12, 5), rules=RULES, options=LAYOUT.options, **(base | kw)
        )

    ranked = ask()
    assert [(r.label, r.score, r.rank, r.on_time_rate) for r in ranked.data] == [
        ("甲局", 90.0, 1, 100.0),
        ("乙局", 80.0, 2, 50.0),
        ("丙局", 30.0, 3, 0.0),
        ("丁局", 20.0, 4, 50.0),
    ]
    assert (ranked.period, ranked.notice) == ("2026-11", DOC)
    assert [r.key for r in ask(sort="key").data] == sorted(r.key for r in ranked.data)
    both = ask(notices=[DOC, "n2"])
    assert next(r for r in both.data if r.label == "甲局").total == 3
    assert ask(period=None).period == "2026-11"  # the last whole month
    for kw, code in (
        ({"by": "chapter"}, "rollup_unknown"),
        ({"by": "leader"}, "rollup_sort_unknown"),
        ({"period": "2026-12"}, "period_not_over"),
    ):
        with pytest.raises(ApiError) as refused:
            ask(**kw)
        assert refused.value.code == code
    with pytest.raises(ApiError) as unknown:
        ask(notices=[DOC, "无此通知"])
    assert (unknown.value.status, unknown.value.code) == (404, "notice_not_found")
