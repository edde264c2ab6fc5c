"""A task's delivery history on SQLite and PostgreSQL: every try with what the receiver answered."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from services.common.clock import ManualClock
from services.common.db import create_tables
from services.common.workdays import WorkCalendar
from services.notify.delivery import delivery_history
from services.notify.delivery_models import DELIVERY_TABLES
from services.notify.worker import DeliveryWorker
from tests.delivery.conftest import settings, subscribe
from tests.delivery.receivers import Receiver
from tests.delivery.steps import MONDAY_10, step


async def test_history_lists_each_try_with_the_answer(sql_engine: Engine, receiver: Receiver) -> None:
    create_tables(sql_engine, DELIVERY_TABLES)
    clock = ManualClock(MONDAY_10)
    worker = DeliveryWorker(sql_engine, settings(), clock, WorkCalendar(), rng=random.Random(1))
    subscribe(sql_engine, "h1", "webhook", f"{receiver.url}/hook/h", name="发改局系统")
    subscribe(sql_engine, "h2", "wecom", f"{receiver.url}/wecom/h?key=1", name="发改局企业微信群")
    receiver.on("/hook/h", lambda n: (503, {"error": "maintenance"}) if n == 1 else None)
    with Session(sql_engine) as session:
        worker.planner(session, step(3, level="red"))
        worker.planner(session, step(4))
        session.commit()
    await worker.run_once()
    clock.advance(timedelta(hours=1))
    await worker.run_once()
    await worker.close()
    with Session(sql_engine) as session:
        history = delivery_history(session, "task-3")
    tries = [(h.at - MONDAY_10, h.subscription, h.outcome, h.status) for h in history]
    assert [t[0] for t in tries] == sorted(t[0] for t in tries)  # oldest first
    assert sorted(t[1:] for t in tries) == [
        ("发改局企业微信群", "sent", 200),
        ("发改局系统", "retry", 503),
        ("发改局系统", "sent", 200),
    ]
    assert "maintenance" in history[[h.status for h in history].index(503)].answer
    assert all(h.step_id == "step-red-3" for h in history)
