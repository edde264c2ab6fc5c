"""The daily tick re-judges only the tasks whose `judge_on` has come: on every day of a year that
must give the very flags and rules a re-judgement of every task would."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, timedelta
from types import SimpleNamespace

import pytest

from services.progress.status import Rules, rejudge


def _task(rng: random.Random, n: int) -> SimpleNamespace:
    issued = date(2026, 1, 1) + timedelta(days=rng.randrange(60))
    return SimpleNamespace(
        task_id=f"t{n}",
        doc_no="兖政发〔2026〕1号",
        notice_id="n",
        issued_date=issued,
        assigned_on=issued,
        due_date=rng.choice([None, issued + timedelta(days=rng.randrange(20, 400))]),
        percent=float(rng.choice([0, 5, 20, 35, 50, 80, 100])),
        closeout_state="open",
        removed=False,
        unacknowledged_since=rng.choice([None, issued]),
        reported_through=rng.choice([None, date(2026, 3, 31), date(2026, 6, 30)]),
        supervision="supervised",
        supervision_start=rng.choice([None, date(2026, 3, 1), date(2026, 5, 13)]),
        flag="",
        expected_percent=0.0,
        reason="",
        rule="",
        missed_periods=0,
        overdue=False,
        judge_on=None,
        milestones=rng.choice([[], _halves(issued)]),
    )


def _halves(issued: date) -> list[dict[str, object]]:
    """上半年完成100个，年底前完成200个: by figure, half the target by the end of June."""
    return [
        {"due_date": date(2026, 6, 30).isoformat(), "value": 100, "unit": "个"},
        {"due_date": date(2026, 12, 31).isoformat(), "value": 200, "unit": "个"},
    ]


@pytest.mark.parametrize("period", ["month", "xun", "week"])
def test_judging_only_when_due_gives_the_flags_of_judging_every_day(period: str) -> None:
    rules = replace(Rules(), period=period)
    rng = random.Random(period)
    every_day = [_task(rng, n) for n in range(80)]
    when_due = [SimpleNamespace(**vars(t)) for t in every_day]
    day, judged = date(2026, 1, 1), 0
    while day < date(2027, 3, 1):
        for full, lazy in zip(every_day, when_due, strict=True):
            rejudge(full, day, rules)
            if lazy.judge_on is None or lazy.judge_on <= day:
                rejudge(lazy, day, rules)
                judged += 1
            assert (lazy.flag, lazy.rule) == (full.flag, full.rule), (full.task_id, day, vars(full))
        day += timedelta(days=1)
    # The point of it: far fewer judgements than one per task and day.
    assert judged < len(every_day) * 425 / 4
