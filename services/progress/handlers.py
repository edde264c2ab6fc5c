"""Progress subscribers: thin shells over `service`."""

from __future__ import annotations

from sqlmodel import Session

from proto.clock import ClockTicked
from proto.task import TaskUpserted
from services.common.messaging import durable_consumer
from services.common.runtime import ServiceRuntime
from services.progress.flags import Thresholds
from services.progress.service import TASK_CONSUMER, TICK_CONSUMER, apply_clock_tick, apply_task_upserted


def register_handlers(runtime: ServiceRuntime) -> None:
    settings = runtime.settings
    thresholds = Thresholds(settings.yellow_gap, settings.red_gap)

    async def on_task_upserted(event: TaskUpserted) -> None:
        with Session(runtime.engine, expire_on_commit=False) as session:
            apply_task_upserted(
                session=session,
                subjects=runtime.subjects,
                event=event,
                today=runtime.clock.today(),
                thresholds=thresholds,
            )
        runtime.relay.kick()

    async def on_clock_tick(event: ClockTicked) -> None:
        with Session(runtime.engine, expire_on_commit=False) as session:
            apply_clock_tick(session=session, subjects=runtime.subjects, event=event, thresholds=thresholds)
        runtime.relay.kick()

    common = {
        "subjects": runtime.subjects,
        "max_deliver": settings.max_deliver,
        "dead_letter": runtime.dead_letter,
    }
    durable_consumer(
        runtime.broker,
        subject=runtime.subjects.task_upserted,
        consumer=TASK_CONSUMER,
        model=TaskUpserted,
        handle=on_task_upserted,
        description="Keeps the status read model's copy of each task.",
        **common,
    )
    durable_consumer(
        runtime.broker,
        subject=runtime.subjects.clock_tick,
        consumer=TICK_CONSUMER,
        model=ClockTicked,
        handle=on_clock_tick,
        description="Re-judges open tasks as time passes.",
        **common,
    )
