"""/readyz follows NATS: not ready while the server is down, ready again once it is back."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager

from services.common.natsserver import NatsServer, free_port
from services.gateway import create_gateway
from tests.helpers import eventually


@pytest.mark.nats
async def test_readyz_tracks_the_nats_connection(tmp_path: Path, subject_root: str) -> None:
    server = NatsServer(free_port(), tmp_path / "nats")
    server.start()
    try:
        app = create_gateway(nats_url=server.url, data_dir=tmp_path / "data", subject_root=subject_root)
        async with (
            LifespanManager(app, startup_timeout=30, shutdown_timeout=30),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://luoshi") as client,
        ):
            assert (await client.get("/api/registry/readyz")).status_code == 200
            assert (await client.get("/api/registry/healthz")).json()["status"] == "ok"
            server.stop()

            async def not_ready() -> bool:
                response = await client.get("/api/registry/readyz")
                return response.status_code == 503 and response.json()["checks"] == {"nats": False, "database": True}

            await eventually(not_ready, what="readyz to report NATS down")
            server.start()

            async def ready() -> bool:
                return (await client.get("/api/registry/readyz")).status_code == 200

            await eventually(ready, timeout=20, what="the service to reconnect")
    finally:
        server.stop()
