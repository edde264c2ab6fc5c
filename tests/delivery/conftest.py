from __future__ import annotations

import random
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import Session

from services.common.clock import ManualClock
from services.common.db import create_tables, make_engine
from services.common.workdays import WorkCalendar
from services.notify.delivery_models import DELIVERY_TABLES, Subscription
from services.notify.delivery_settings import DeliverySettings
from services.notify.worker import DeliveryWorker
from tests.delivery.receivers import Receiver
from tests.delivery.steps import MONDAY_10


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'notify.db'}")
    create_tables(engine, DELIVERY_TABLES)
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(MONDAY_10)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    server = Receiver()
    await server.start()
    yield server
    await server.stop()


def settings(**over: Any) -> DeliverySettings:
    base: dict[str, Any] = {"webhook_secret": SecretStr("hook-secret")}
    return DeliverySettings(**(base | over))


@pytest.fixture
async def worker(engine: Engine, clock: ManualClock) -> AsyncIterator[DeliveryWorker]:
    w = DeliveryWorker(engine, settings(), clock, WorkCalendar(), rng=random.Random(7))
    yield w
    await w.close()


def subscribe(engine: Engine, sid: str, channel: str, target: str, **fields: Any) -> Subscription:
    sub = Subscription(
        subscription_id=sid,
        name=fields.pop("name", sid),
        channel=channel,
        target=target,
        owner_kind=fields.pop("owner_kind", "unit"),
        owner_id=fields.pop("owner_id", "u1"),
        **fields,
    )
    with Session(engine, expire_on_commit=False) as session:
        session.add(sub)
        session.commit()
    return sub
