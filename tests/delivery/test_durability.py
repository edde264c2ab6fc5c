"""A worker killed with SIGKILL in the middle of a 5,000-delivery fan-out, then started again:
every delivery reaches the receiver, each idempotency key accepted exactly once, none lost."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from services.common.clock import ManualClock
from services.common.workdays import WorkCalendar
from services.notify.deliveries import Planner
from services.notify.delivery_models import SENT, Delivery, Subscription
from tests.delivery.receivers import Receiver
from tests.delivery.steps import step
from tests.helpers import eventually

pytestmark = pytest.mark.durability
DELIVERIES = 5_000
SUBSCRIBERS = 50


def _start(url: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "LUOSHI_NOTIFY_WEBHOOK_SECRET": "hook-secret",
        "LUOSHI_NOTIFY_BATCH_MAX": "1",  # one delivery a message: the kill lands between many sends
        "LUOSHI_NOTIFY_LEASE_S": "1",
        "LUOSHI_NOTIFY_WORKER_INTERVAL_S": "0.05",
    }
    return subprocess.Popen([sys.executable, "-m", "tests.delivery.worker_process", url], env=env)


def _sent(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(Delivery).where(Delivery.state == SENT)).one()


async def test_kill_9_mid_fan_out_loses_nothing(
    engine: Engine, clock: ManualClock, receiver: Receiver, tmp_path: Path
) -> None:
    with Session(engine) as session:
        for i in range(SUBSCRIBERS):
            session.add(
                Subscription(
                    subscription_id=f"k{i:02d}",
                    name=f"k{i}",
                    channel="webhook",
                    target=f"{receiver.url}/hook/k{i}",
                    owner_kind="unit",
                    owner_id=f"u{i}",
                )
            )
        session.commit()
    planner = Planner(WorkCalendar())
    with Session(engine) as session:
        for n in range(DELIVERIES):
            planner(session, step(n, units=(f"u{n % SUBSCRIBERS}",)))
        session.commit()
    url = str(engine.url)
    worker = _start(url)
    try:

        async def some() -> bool:
            return len(receiver.accepted) >= 1_000

        await eventually(some, timeout=120, what="a fifth of the fan-out")
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        interrupted = len(receiver.accepted)
        assert interrupted < DELIVERIES
        worker = _start(url)

        async def done() -> bool:
            return _sent(engine) == DELIVERIES

        await eventually(done, timeout=240, what="every delivery sent after the restart")
    finally:
        worker.kill()
        worker.wait()
    await asyncio.sleep(0)
    keys = [got.headers["idempotency-key"] for got in receiver.accepted]
    assert len(keys) == len(set(keys)) == DELIVERIES
    assert keys and set(keys) == {f"step-reminder-{n}:k{n % SUBSCRIBERS:02d}" for n in range(DELIVERIES)}
    # Only what was in flight at the kill (at most one send per subscriber) came twice.
    assert receiver.duplicates <= SUBSCRIBERS
    assert receiver.refused == []
