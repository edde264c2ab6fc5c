"""The notify service on a real port (uvicorn on loopback, real nats-server), with tokens and a
directory copy written straight into its database, for the route and feed tests."""

from __future__ import annotations

import asyncio
import socket
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI
from sqlalchemy.engine import Engine
from sqlmodel import Session

from services.common.clock import ManualClock
from services.common.identity import AuthToken, hash_token
from services.notify.app import create_app
from services.notify.delivery_models import Contact
from services.notify.settings import NotifySettings


@dataclass
class Notify:
    app: FastAPI
    url: str
    engine: Engine
    clock: ManualClock
    server: uvicorn.Server
    task: asyncio.Task[None]

    def token(self, role: str, *, unit: str | None = None, post: str | None = None) -> str:
        token_id = uuid.uuid4().hex[:12]
        secret = f"lsp_{token_id}_{uuid.uuid4().hex}"
        with Session(self.engine) as session:
            session.add(
                AuthToken(
                    token_id=token_id,
                    token_hash=hash_token(secret),
                    role=role,
                    unit_id=unit,
                    post_id=post,
                    label=unit or post or role,
                    created_at=datetime.now(UTC),
                )
            )
            session.commit()
        return secret

    def directory(self, *contacts: Contact) -> None:
        with Session(self.engine) as session:
            for contact in contacts:
                session.merge(contact)
            session.commit()

    def client(self, token: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=10, trust_env=False)


async def start_notify(nats_url: str, data: Path, clock: ManualClock) -> Notify:
    settings = NotifySettings(nats_url=nats_url, data_dir=data, subject_root=f"d{uuid.uuid4().hex[:10]}")
    app = create_app(settings, clock)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    runtime = app.state.runtime
    return Notify(app, f"http://127.0.0.1:{port}", runtime.engine, clock, server, task)


async def stop_notify(notify: Notify) -> None:
    notify.server.should_exit = True
    await notify.task
