"""Progress subscribers: thin shells over `tasks` and `status`.

The database work runs in a worker thread, behind the same write gate as the HTTP writers, so
a burst of task events never stalls the event loop that answers reports.
"""

from __future__ import annotations

import asyncio

from sqlmodel import Session

from proto.clock import ClockTicked
from proto.task import TaskUpserted
from services.common import heap
from services.common.runtime import ServiceRuntime
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
