"""Notify subscribers and the daily clock: thin shells over `service`."""

from __future__ import annotations

import asyncio
import logging

from sqlmodel import Session

from proto.progress import StatusChanged
from services.common.runtime import ServiceRuntime
from services.notify.service import STATUS_CONSUMER, escalate, tick_if_new_day

log = logging.getLogger(__name__)


def register_handlers(runtime: ServiceRuntime) -> None:
    async def on_status_changed(event: StatusChanged) -> None:
        with Session(runtime.engine, expire_on_commit=False) as session:
            if escalate(session=session, subjects=runtime.subjects, change=event):
                runtime.relay.kick()

    runtime.consume(
        runtime.subjects.status_changed,
        consumer=STATUS_CONSUMER,
        model=StatusChanged,
        handle=on_status_changed,
        description="Escalates tasks that turn red to their host units.",
    )

    async def clock_loop() -> None:
        while True:
            try:
                with Session(runtime.engine, expire_on_commit=False) as session:
                    if tick_if_new_day(session=session, subjects=runtime.subjects, today=runtime.clock.today()):
                        runtime.relay.kick()
            except Exception:
                log.warning("clock tick failed; will retry", exc_info=True)
            await asyncio.sleep(runtime.settings.tick_check_s)

    runtime.add_background(clock_loop)
