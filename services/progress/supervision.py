"""What a notice's supervision does to a judgement: nothing judged before it starts or when it is off.

A task of a notice that is not supervised (参考, 已归档) stays blue with the rule `reference` or
`archived`; its expected progress and completion are still shown. A supervised task is judged
from the end of its first whole reporting period after the start (plus the grace days): until
then it is blue with the rule `baseline`, so the state it was in when supervision started (most
tasks of a notice taken up in November are far behind by the calendar) raises nothing. Only what
happens after the units had a period to report is a change that notify chases.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from services.common import periods
from services.progress.flags import Verdict

# Rules a judgement keeps whatever the supervision: they are facts, not a verdict on the units.
_FACTS = ("done", "closed")


def judged_from(kind: str, start: date, grace_days: int) -> date:
    """The first day a supervised task can be yellow or red: its first period's report is then overdue."""
    first = periods.first_period_day(kind, start) or start
    return periods.period_containing(kind, first).end + timedelta(days=grace_days + 1)


def restrain(verdict: Verdict, task: Any, today: date, kind: str, grace_days: int) -> Verdict:
    """The verdict as the notice's supervision lets it stand."""
    if verdict.rule in _FACTS:
        return verdict
    state = task.supervision or "supervised"
    expected = verdict.expected_percent
    if state != "supervised":
        zh = "参考通知，不评判" if state == "reference" else "已归档通知，不评判"
        return Verdict("blue", expected, f"{zh} / {state} notice, not judged", state)
    start = task.supervision_start
    if verdict.flag == "blue" or start is None:
        return verdict
    since = judged_from(kind, start, grace_days)
    if today >= since:
        return verdict
    return Verdict(
        "blue",
        expected,
        f"督办自 {start} 起，{since} 起评判 / supervised from {start}, judged from {since}",
        "baseline",
    )
