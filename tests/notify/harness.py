"""The supervision process on a controlled calendar: real SQLite, the domain functions, no broker.

Events go in as the subscribers would hand them over (each in its own transaction, once); a
day's tick runs the ladder. What the process would publish is read back from the outbox.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from proto.progress import ProgressReported, ReceiptSigned, StatusChanged
from proto.subjects import Subjects
from proto.task import LeaderRef, TaskUpserted, UnitRef
from services.common.db import create_tables, make_engine
from services.common.inbox import InboxEntry
from services.common.outbox import OutboxEntry
from services.common.workdays import WorkCalendar
from services.notify import ladder, process
from services.notify.context import Context
from services.notify.models import TABLES, Escalation, HistoryEntry
from services.notify.outgoing import OutgoingStep
from services.notify.pending import commit
from services.notify.rules import Rules

SUBJECTS = Subjects("t")
UNITS = {"ugongxin0001": "县工业和信息化局", "ufagai00001": "县发展改革局"}
LEADER = LeaderRef(name="李明", post_id="pfuxianzhang", holder="王强")


def task_event(
    number: int = 1,
    *,
    due: date | None = date(2026, 12, 31),
    supervision: str = "supervised",
    start: date | None = date(2026, 1, 1),
    units: dict[str, str] = UNITS,
    external: tuple[str, ...] = (),
    removed: bool = False,
) -> TaskUpserted:
    refs = [UnitRef(unit_id=uid, name=name, external=uid in external) for uid, name in units.items()]
    return TaskUpserted(
        task_id=f"t-{number}",
        key=f"济兖政发〔2026〕1号#{number}",
        notice_id="n1",
        doc_no="济兖政发〔2026〕1号",
        number=number,
        text="新增规上工业企业20家，完成工业技改投资增长10%以上",
        leaders=[LEADER.name],
        leader_refs=[LEADER],
        host_units=refs,
        host_unit_ids=list(units),
        issued_date=date(2026, 1, 1),
        due_date=due,
        supervision=supervision,  # type: ignore[arg-type]
        supervision_start=start,
        removed=removed,
    )


@dataclass
class Sim:
    root: Path
    rules: Rules = field(default_factory=Rules)
    calendar: WorkCalendar = field(default_factory=WorkCalendar)
    today: date = date(2026, 1, 1)
    steps: list[OutgoingStep] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.engine = make_engine(f"sqlite:///{self.root / 'notify.db'}")
        create_tables(self.engine, [InboxEntry, OutboxEntry, *TABLES])

    def context(self) -> Context:
        now = datetime.combine(self.today, time(1, 0), tzinfo=UTC)
        return Context(
            subjects=SUBJECTS,
            rules=self.rules,
            calendar=self.calendar,
            today=self.today,
            now=now,
            console_url="https://luoshi.example.cn",
            planner=lambda _session, step: self.steps.append(step),
        )

    def _apply(self, apply: Callable[[Session, Context, Any], object], event: Any) -> None:
        with Session(self.engine, expire_on_commit=False) as session:
            apply(session, self.context(), event)
            commit(session)

    def task(self, event: TaskUpserted) -> None:
        self._apply(process.apply_task, event)

    def status(self, task_id: str, flag: str, rule: str = "far_behind", **extra: Any) -> None:
        event = StatusChanged(
            task_id=task_id,
            new_flag=flag,  # type: ignore[arg-type]
            percent=extra.pop("percent", 10.0),
            expected_percent=extra.pop("expected", 45.0),
            reason="严重滞后：完成 10%，应达 45%，落后 35 个百分点 / seriously behind",
            host_units=list(UNITS.values()),
            host_unit_ids=list(UNITS),
            rule=rule,
            period_kind="month",
            **extra,
        )
        self._apply(process.apply_status, event)

    def report(self, task_id: str, period: str, unit_id: str = "ugongxin0001") -> None:
        event = ProgressReported(
            report_id="r", task_id=task_id, unit=UNITS.get(unit_id, unit_id), unit_id=unit_id, period=period, percent=50
        )
        self._apply(process.apply_report, event)

    def sign(self, task_id: str, unit_id: str) -> None:
        self._apply(process.apply_signed, ReceiptSigned(task_id=task_id, unit_id=unit_id))

    def tick(self, day: date) -> int:
        self.today = day
        with Session(self.engine, expire_on_commit=False) as session:
            with session.no_autoflush:
                moved = ladder.tick(session, self.context(), lambda: commit(session))
            commit(session)
        return moved

    def run_to(self, last: date, on_day: Callable[[date], None] | None = None) -> None:
        """Tick every day after today up to `last`, with `on_day` acting first each morning."""
        day = self.today
        while day < last:
            day = date.fromordinal(day.toordinal() + 1)
            self.today = day
            if on_day is not None:
                on_day(day)
            self.tick(day)

    def escalations(self, task_id: str | None = None) -> list[Escalation]:
        with Session(self.engine) as session:
            stmt = select(Escalation).order_by(col(Escalation.opened_on), col(Escalation.escalation_id))
            if task_id:
                stmt = stmt.where(Escalation.task_id == task_id)
            return list(session.exec(stmt).all())

    def history(self, task_id: str) -> list[HistoryEntry]:
        with Session(self.engine) as session:
            stmt = select(HistoryEntry).where(HistoryEntry.task_id == task_id).order_by(col(HistoryEntry.id))
            return list(session.exec(stmt).all())

    def sent(self, task_id: str | None = None) -> list[tuple[date, str, str]]:
        """(day, rule, title) of each step handed to delivery about `task_id` (all: None), in order."""
        return [
            (s.raised_on, s.rule, s.title) for s in self.steps if task_id in (None, s.task_id) or task_id in s.task_ids
        ]

    def published(self) -> list[tuple[str, dict[str, Any]]]:
        with Session(self.engine) as session:
            rows = session.exec(select(OutboxEntry).order_by(col(OutboxEntry.seq))).all()
            return [(r.subject, json.loads(r.payload)) for r in rows]
