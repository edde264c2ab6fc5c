"""Progress subscribers: thin shells over `tasks` and `status`.

The database work runs in a worker thread, behind the same write gate as the HTTP writers, so
a burst of task events never stalls the event loop that answers reports.
"""

from __future__ import annotations

import asyncio

from sqlmodel import Session

from proto.clock import ClockTicked
from proto.escalation import EscalationRaised
from proto.task import TaskUpserted
from services.common import heap
from services.common.runtime import ServiceRuntime
from services.progress.bulletin_events import (
    HEAD,
    MARK_CONSUMER,
    SCHEDULE_CONSUMER,
    apply_escalation_raised,
    apply_schedule_tick,
)
from services.progress.bulletin_schedule import parse_entry
from services.progress.bulletins import Layout
from services.progress.gate import WriteGate
from services.progress.status import TICK_CONSUMER, Rules, apply_clock_tick
from services.progress.tasks import TASK_CONSUMER, apply_task_upserted


def register_handlers(runtime: ServiceRuntime, *, rules: Rules, gate: WriteGate) -> None:
    def task_upserted(event: TaskUpserted) -> None:
        with gate, Session(runtime.engine, expire_on_commit=False) as session:
            apply_task_upserted(
                session=session, subjects=runtime.subjects, event=event, today=runtime.clock.today(), rules=rules
            )

    def clock_tick(event: ClockTicked) -> None:
        with gate, Session(runtime.engine, expire_on_commit=False) as session:
            apply_clock_tick(session=session, subjects=runtime.subjects, event=event, rules=rules)
        heap.release()  # a tick touches every open task, once a day

    async def on_task_upserted(event: TaskUpserted) -> None:
        await asyncio.to_thread(task_upserted, event)
        runtime.relay.kick()

    async def on_clock_tick(event: ClockTicked) -> None:
        await asyncio.to_thread(clock_tick, event)
        runtime.relay.kick()

    register_bulletin_handlers(runtime, rules=rules, gate=gate)
    runtime.consume(
        runtime.subjects.task_upserted,
        consumer=TASK_CONSUMER,
        model=TaskUpserted,
        handle=on_task_upserted,
        description="Keeps the status read model's copy of each task and of the units responsible.",
    )
    runtime.consume(
        runtime.subjects.clock_tick,
        consumer=TICK_CONSUMER,
        model=ClockTicked,
        handle=on_clock_tick,
        description="Re-judges open tasks as time passes: overdue, missed reporting periods, unsigned receipts.",
    )


def register_bulletin_handlers(runtime: ServiceRuntime, *, rules: Rules, gate: WriteGate) -> None:
    layout = Layout.from_settings(runtime.settings)
    entries = [parse_entry(text) for text in runtime.settings.bulletin_schedule]

    def escalation_raised(event: EscalationRaised) -> None:
        with gate, Session(runtime.engine, expire_on_commit=False) as session:
            apply_escalation_raised(session=session, event=event)

    def schedule_tick(event: ClockTicked) -> None:
        with gate, Session(runtime.engine, expire_on_commit=False) as session:
            apply_schedule_tick(session=session, event=event, rules=rules, layout=layout, entries=entries)

    async def on_escalation_raised(event: EscalationRaised) -> None:
        await asyncio.to_thread(escalation_raised, event)

    async def on_schedule_tick(event: ClockTicked) -> None:
        await asyncio.to_thread(schedule_tick, event)

    runtime.consume(
        runtime.subjects.escalation_raised_level(HEAD),
        consumer=MARK_CONSUMER,
        model=EscalationRaised,
        handle=on_escalation_raised,
        description="Keeps the tasks the escalation ladder raised to the head (提级督办), to name them in the next "
        "bulletin.",
    )
    runtime.consume(
        runtime.subjects.clock_tick,
        consumer=SCHEDULE_CONSUMER,
        model=ClockTicked,
        handle=on_schedule_tick,
        description="Drafts the bulletins the schedule (BULLETIN_SCHEDULE) says fall due on the new day.",
    )
