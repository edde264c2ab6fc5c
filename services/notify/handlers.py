"""Notify subscribers and the daily clock: thin shells over `process` and `ladder`.

The database work runs in a worker thread (a month-end tick writes a reminder for every task),
so the event loop keeps answering the API meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlmodel import Session

from proto.clock import ClockTicked
from proto.progress import ProgressReported, ReceiptSigned, StatusChanged
from proto.task import TaskUpserted
from services.common import heap
from services.common.inbox import remember, seen
from services.common.runtime import ServiceRuntime
from services.common.workdays import WorkCalendar
from services.notify import ladder, process
from services.notify.context import Context
from services.notify.outgoing import DeliveryPlanner, plan_nothing
from services.notify.pending import commit
from services.notify.rules import RuleBook
from services.notify.service import tick_if_new_day

log = logging.getLogger(__name__)

STATUS_CONSUMER = "notify-status-changed"
TASK_CONSUMER = "notify-task-upserted"
REPORT_CONSUMER = "notify-progress-reported"
SIGNED_CONSUMER = "notify-progress-signed"
TICK_CONSUMER = "notify-clock-tick"

E = TypeVar("E", bound=BaseModel)


@dataclass
class Chase:
    """What the process decides with, shared by the subscribers and the API."""

    runtime: ServiceRuntime
    book: RuleBook
    calendar: WorkCalendar
    planner: DeliveryPlanner = plan_nothing
    console_url: str = "http://127.0.0.1:8000/console"  # each message links to the task there
    # One event at a time: a task's first status.changed often races its task.upserted, and both
    # would create the task's row.
    lock: threading.Lock = field(default_factory=threading.Lock)

    def context(self, today: date | None = None) -> Context:
        return Context(
            subjects=self.runtime.subjects,
            rules=self.book.current(),
            calendar=self.calendar,
            today=today or self.runtime.clock.today(),
            now=self.runtime.clock.now(),
            console_url=self.console_url,
            planner=self.planner,
        )

    def handle(
        self, consumer: str, event: Any, apply: Callable[[Session, Context, Any], object], today: date | None = None
    ) -> None:
        """Apply one event once: the inbox row commits with what the event changed."""
        with self.lock, Session(self.runtime.engine, expire_on_commit=False) as session:
            if seen(session, consumer, event.event_id):
                return
            apply(session, self.context(today), event)
            remember(session, consumer, event.event_id)
            commit(session)


def register_handlers(runtime: ServiceRuntime, chase: Chase) -> None:
    def subscribe(
        subject: str, consumer: str, model: type[E], apply: Callable[[Session, Context, Any], object], description: str
    ) -> None:
        async def on_event(event: E) -> None:
            await asyncio.to_thread(chase.handle, consumer, event, apply)
            runtime.relay.kick()

        runtime.consume(subject, consumer=consumer, model=model, handle=on_event, description=description)

    subjects = runtime.subjects
    subscribe(
        subjects.task_upserted,
        TASK_CONSUMER,
        TaskUpserted,
        process.apply_task,
        "Keeps notify's copy of each task, its units in scope and its leaders; closes the chase of a task no longer supervised.",
    )
    subscribe(
        subjects.status_changed,
        STATUS_CONSUMER,
        StatusChanged,
        process.apply_status,
        "督办 when a task turns red; closes it when the task recovers.",
    )
    subscribe(
        subjects.progress_reported,
        REPORT_CONSUMER,
        ProgressReported,
        process.apply_report,
        "A report ends the 催办 for its period.",
    )
    subscribe(
        subjects.progress_signed, SIGNED_CONSUMER, ReceiptSigned, process.apply_signed, "A 签收 ends the 催办 for it."
    )

    async def on_tick(event: ClockTicked) -> None:
        await asyncio.to_thread(chase.handle, TICK_CONSUMER, event, _tick, event.today)
        heap.release()
        runtime.relay.kick()

    runtime.consume(
        subjects.clock_tick,
        consumer=TICK_CONSUMER,
        model=ClockTicked,
        handle=on_tick,
        description="Each working day: 临近提醒, 催办 and their repeats, the climb to 督办 and the office head.",
    )
    runtime.add_background(lambda: _clock_loop(runtime))


def _tick(session: Session, ctx: Context, event: ClockTicked) -> None:
    def checkpoint() -> None:
        commit(session)
        session.expunge_all()

    with session.no_autoflush:  # a flush per chunk: the unit of work then writes in batches
        moved = ladder.tick(session, ctx, checkpoint)
    log.info("notify tick %s: %d escalations opened or stepped", ctx.today, moved)


async def _clock_loop(runtime: ServiceRuntime) -> None:
    while True:
        try:
            with Session(runtime.engine, expire_on_commit=False) as session:
                if tick_if_new_day(session=session, subjects=runtime.subjects, today=runtime.clock.today()):
                    runtime.relay.kick()
        except Exception:
            log.warning("clock tick failed; will retry", exc_info=True)
        await asyncio.sleep(runtime.settings.tick_check_s)  # type: ignore[attr-defined]
