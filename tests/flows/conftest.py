from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from services.common.clock import ManualClock
from services.common.natsserver import NatsServer
from services.gateway import create_gateway
from tests.helpers import bearer, office_token


@dataclass
class System:
    app: FastAPI
    client: httpx.AsyncClient
    clock: ManualClock
    subject_root: str
    nats_url: str
    office: str
    anonymous: httpx.AsyncClient  # no token: for what callers without one get


@pytest.fixture(scope="module")
async def system(nats_server: NatsServer, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[System]:
    """All four services in one process on a real nats-server and SQLite, shared by a module's tests."""
    root = f"m{uuid.uuid4().hex[:10]}"
    clock = ManualClock(datetime(2026, 3, 1, 9, 0))
    data: Path = tmp_path_factory.mktemp("system")
    app = create_gateway(nats_url=nats_server.url, data_dir=data, subject_root=root, clock=clock)
    async with (
        LifespanManager(app, startup_timeout=30, shutdown_timeout=30),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://luoshi") as client,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://luoshi") as anonymous,
    ):
        # Requests without headers of their own act as the office; tests name other callers.
        office = await office_token(app)
        client.headers.update(bearer(office))
        yield System(
            app=app,
            client=client,
            clock=clock,
            subject_root=root,
            nats_url=nats_server.url,
            office=office,
            anonymous=anonymous,
        )
