"""A year of the 2026 notice on a simulated clock: units reporting on time, late and never.

Supervised from the notice's date (13 February 2026), reported monthly, every task due on 31
December; each task's host units sign at once. The number of messages per task is what the
ladder of rules.yaml says (a unit's 临近提醒 lists all its tasks; it counts once for each):

- on time (each month's report on its last working day): a 临近提醒 for each month from March
  (the first whole period) to December — 10 — and one 10 working days before the deadline: 11.
- late (each report on the second working day after its month): the same 11, and the first 催办
  of each month March–November (December's falls in 2027), closed by the report before a second:
  11 + 9 = 20.
- never: the same 11, and for March: 催办, 第2次, 第3次, 督办 to the leaders, 提级督办 to the office
  head — the escalation then stays open (no new 催办 while it is), so 11 + 5 = 16.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

from proto.subjects import unit_token
from proto.task import LeaderRef, TaskUpserted, UnitRef
from services.notify.rules import Rules
from tests.notify.harness import Sim
from tests.shared import shared_root

EXPECTED = {"on_time": 11, "late": 20, "never": 16}
BEHAVIOURS = ("on_time", "late", "never")


def _tasks() -> list[TaskUpserted]:
    gold = json.loads((shared_root() / "gold" / "yanzhou-2026-work-report-tasks.gold.json").read_text("utf-8"))
    doc = gold["doc"]
    out = []
    for task in gold["tasks"]:
        units = [UnitRef(unit_id=unit_token(name), name=name) for name in task["host_units"]]
        if not units:
            continue
        out.append(
            TaskUpserted(
                task_id=f"t-{task['number']}",
                key=f"{doc['doc_no']}#{task['number']}",
                notice_id="n2026",
                doc_no=doc["doc_no"],
                number=task["number"],
                text=task["text_start"] + "…" + task["text_end"],
                leaders=task["leaders"],
                leader_refs=[LeaderRef(name=n, post_id="p" + unit_token(n)[1:], holder=n) for n in task["leaders"]],
                host_units=units,
                host_unit_ids=[u.unit_id for u in units],
                issued_date=date.fromisoformat(doc["issued_date"]),
                due_date=date(2026, 12, 31),
                supervision_start=date.fromisoformat(doc["issued_date"]),
            )
        )
    return out


def test_a_year_of_the_2026_notice(tmp_path: Path) -> None:
    tasks = _tasks()
    sim = Sim(tmp_path, rules=Rules(), today=date(2026, 2, 13))
    behaviour = {t.task_id: BEHAVIOURS[i % 3] for i, t in enumerate(tasks)}
    for task in tasks:
        sim.task(task)
        for unit_id in task.host_unit_ids:
            sim.sign(task.task_id, unit_id)
    cal = sim.calendar

    def month_end(day: date) -> date:
        return (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)

    def on_day(day: date) -> None:
        last_working = cal.add_working_days(month_end(day) + timedelta(days=1), -1)
        previous = day.replace(day=1) - timedelta(days=1)
        second_after = cal.add_working_days(previous, 2)
        for task in tasks:
            kind = behaviour[task.task_id]
            if kind == "on_time" and day == last_working and day.month >= 3:
                sim.report(task.task_id, f"{day:%Y-%m}", task.host_unit_ids[0])
            if kind == "late" and day == second_after and previous >= date(2026, 3, 1):
                sim.report(task.task_id, f"{previous:%Y-%m}", task.host_unit_ids[0])

    sim.run_to(date(2026, 12, 31), on_day)
    counts: dict[str, set[int]] = {}
    for task in tasks:
        # A unit's 临近提醒 lists all its tasks and each host unit gets its own: one message a day about the task.
        about = {(day, rule) for day, rule, _title in sim.sent(task.task_id)}
        counts.setdefault(behaviour[task.task_id], set()).add(len(about))
    assert counts == {kind: {n} for kind, n in EXPECTED.items()}
    never = next(t.task_id for t in tasks if behaviour[t.task_id] == "never")
    assert [rule for _day, rule, _title in sim.sent(never) if not rule.startswith("advance")] == [
        "report_missing",
        "report_missing",
        "report_missing",
        "unanswered",
        "head",
    ]
