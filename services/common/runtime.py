"""What every service has at run time: engine, broker, publishers, outbox relay, clock."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, Generic, TypeVar

from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from proto.envelope import Event
from proto.subjects import Subjects
from proto.token import TokenChanged
from services.common.access import PUBLIC, seal_router
from services.common.audit import AuditRecord, audit_router
from services.common.bodylimit import BodyLimit
from services.common.clock import Clock, SystemClock
from services.common.db import make_engine, ping
from services.common.errors import document_errors, install_error_handlers
from services.common.identity import AuthToken, TokenCache, apply_token_event
from services.common.inbox import InboxEntry
from services.common.messaging import (
    Handle,
    Publishers,
    create_broker,
    durable_consumer,
    ensure_streams,
    inbox_for,
)
from services.common.migrations import upgrade
from services.common.outbox import OutboxEntry, OutboxRelay
from services.common.settings import ServiceSettings
from services.common.urlguard import RefuseControlCharacters

log = logging.getLogger(__name__)


class DeadLetter(Event):
    """An event a consumer gave up on, kept on `luoshi.dlq.<consumer>` for inspection."""

    consumer: str
    subject: str
    payload: str
    error: str


SettingsT = TypeVar("SettingsT", bound=ServiceSettings)
T = TypeVar("T")


class ServiceRuntime(Generic[SettingsT]):
    def __init__(
        self,
        settings: SettingsT,
        *,
        tables: Sequence[type[SQLModel]],
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self.name = settings.service_name
        self.clock: Clock = clock or SystemClock(settings.zone)
        self.subjects = Subjects(settings.subject_root)
        self.engine: Engine = make_engine(settings.resolved_database_url())
        self.tables = [InboxEntry, OutboxEntry, AuthToken, AuditRecord, *tables]
        credentials = settings.nats_credentials()
        self.inbox = inbox_for(credentials)
        self.broker = create_broker(settings.nats_url, self.name, credentials)
        self.publishers = Publishers(self.broker, self.subjects)
        self._dlq = self.publishers.declare(
            self.subjects.dead_letter(self.name), DeadLetter, "Events this service gave up on."
        )
        self.relay = OutboxRelay(
            self.engine,
            self.publishers.publish_all,
            settings.outbox_interval_s,
            run_db=self.run_db,
            keep_days=settings.outbox_keep_days,
        )
        self._background: list[Callable[[], Awaitable[None]]] = []
        self.consumers: list[tuple[str, str]] = []  # (subject, consumer): what its NATS user must be allowed
        self.tokens = TokenCache(self.engine)
        self.consume(
            self.subjects.token_changed_all,
            consumer=f"{self.name}-token-changed",
            model=TokenChanged,
            handle=self._on_token_changed,
            description="Keeps this service's copy of the API tokens, so callers are checked locally.",
        )

    async def _on_token_changed(self, event: TokenChanged) -> None:
        def apply() -> bool:
            with Session(self.engine) as session:
                return apply_token_event(session=session, event=event)

        # Always in a worker thread, even on SQLite: a token write may wait for a write lock that a
        # writer of this service holds across an await, and waiting on the loop would stall both
        # until SQLite's busy timeout (30 s). Tokens change rarely, so the hand-off costs nothing.
        if await asyncio.to_thread(apply):
            self.tokens.forget(event.token_id)

    async def run_db(self, work: Callable[..., T], /, *args: Any) -> T:
        """Run blocking database work: on the event loop for SQLite, in a worker thread otherwise.

        A SQLite statement is an in-process C call of microseconds, so a thread hand-off costs more
        than the work, and CPU-bound threads beside the event loop starve it of the GIL: with the
        status reads in worker threads, one read per ten reports cut the durable report rate from
        713/s to 161/s here. PostgreSQL waits on the network and on row locks held by other
        processes, which must never stall the loop.
        """
        if self.engine.dialect.name == "sqlite":
            return work(*args)
        return await asyncio.to_thread(work, *args)

    def consume(self, subject: str, *, consumer: str, model: type[BaseModel], handle: Handle, description: str) -> None:
        """Subscribe `handle` through a durable consumer with this service's retry limit and dead letters."""
        self.consumers.append((subject, consumer))
        durable_consumer(
            self.broker,
            subjects=self.subjects,
            subject=subject,
            consumer=consumer,
            model=model,
            handle=handle,
            max_deliver=self.settings.max_deliver,
            dead_letter=self.dead_letter,
            description=description,
            inbox=self.inbox,
        )

    def add_background(self, loop: Callable[[], Awaitable[None]]) -> None:
        """A long-running coroutine started with the service and cancelled at its stop."""
        self._background.append(loop)

    async def dead_letter(self, subject: str, payload: bytes, error: str) -> None:
        letter = DeadLetter(
            source=self.name,
            consumer=self.name,
            subject=subject,
            payload=payload.decode("utf-8", "replace"),
            error=error,
        )
        await self.publishers.publish(
            self.subjects.dead_letter(self.name), letter.model_dump_json().encode(), letter.event_id
        )

    def nats_connected(self) -> bool:
        try:
            conn = self.broker.config.connection_state.connection
        except Exception:
            return False
        return bool(conn is not None and conn.is_connected)

    @asynccontextmanager
    async def lifespan(self, _app: FastAPI | None = None) -> AsyncIterator[None]:
        upgrade(self.engine, self.name, self.tables)
        await self.broker.connect()
        await ensure_streams(self.broker.config.connection_state.stream, self.subjects, self.publishers.streams())
        await self.broker.start()
        self.relay.start()
        self.relay.kick()
        tasks = [asyncio.create_task(loop()) for loop in self._background]
        log.info("%s started", self.name)
        try:
            yield
        finally:
            started = time.monotonic()
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await self.relay.stop()
            relay_s = time.monotonic() - started
            await self.broker.stop()
            self.engine.dispose()
            log.info("%s stopped (relay %.2fs, broker %.2fs)", self.name, relay_s, time.monotonic() - started - relay_s)

    def health_router(self) -> APIRouter:
        router = APIRouter(tags=["health"], dependencies=[Depends(PUBLIC)])

        @router.get("/healthz", summary="Process is up")
        async def healthz() -> dict[str, str]:
            return {"status": "ok", "service": self.name}

        @router.get("/readyz", summary="NATS connected and database reachable")
        async def readyz() -> JSONResponse:
            checks = {"nats": self.nats_connected(), "database": ping(self.engine)}
            ready = all(checks.values())
            body = {"status": "ready" if ready else "not ready", "service": self.name, "checks": checks}
            return JSONResponse(body, status_code=200 if ready else 503)

        return router


def create_service_app(
    runtime: ServiceRuntime[Any],
    *,
    title: str,
    description: str,
    routers: Sequence[APIRouter],
    body_limits: Mapping[str, int] | None = None,
) -> FastAPI:
    """A service's app: its routers, health and audit routes, every undeclared route refused, bodies capped.

    `body_limits` gives a route (path in the app) its own body cap.
    """
    app = FastAPI(title=title, description=description, lifespan=runtime.lifespan)
    app.add_middleware(BodyLimit, default=runtime.settings.max_body_bytes, routes=body_limits)
    app.state.runtime = runtime
    app.state.routers = [runtime.health_router(), *routers, audit_router()]
    for router in app.state.routers:
        for route in seal_router(router):
            log.warning("%s: route %s declares no caller role; it is refused", runtime.name, route)
        app.include_router(router)
    install_error_handlers(app)
    document_errors(app)
    app.add_middleware(RefuseControlCharacters)
    return app
