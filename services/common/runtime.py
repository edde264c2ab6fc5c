"""What every service has at run time: engine, broker, publishers, outbox relay, clock."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, Generic, TypeVar

from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import JSONResponse
from nats.js.client import JetStreamContext
from pydantic import BaseModel
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from proto.envelope import Event
from proto.streams import stream_for
from proto.subjects import Subjects
from proto.token import TokenChanged
from services.common.access import PUBLIC, seal_router
from services.common.audit import AuditRecord, audit_router
from services.common.bodylimit import BodyLimit
from services.common.clock import Clock, SystemClock
from services.common.db import make_engine, ping
from services.common.docs import docs_router, install_docs_assets
from services.common.errors import install_error_handlers
from services.common.eventcontext import EventLogContext
from services.common.identity import AuthToken, TokenCache, apply_token_event
from services.common.inbox import InboxEntry
from services.common.inboxprune import InboxPruning
from services.common.messaging import (
    Durable,
    Handle,
    Message,
    Publishers,
    create_broker,
    durable_consumer,
    inbox_for,
    update_durables,
)
from services.common.metrics import ServiceMetrics, metrics_router, subject_label
from services.common.migrations import upgrade
from services.common.natsauth import durable_name
from services.common.observe import ObserveRequests
from services.common.outbox import OutboxEntry, OutboxRelay
from services.common.sampling import MetricsSampler
from services.common.settings import ServiceSettings
from services.common.streams import ensure_streams
from services.common.urlguard import RefuseControlCharacters

log = logging.getLogger(__name__)


class DeadLetter(Event):
    """An event a consumer gave up on, kept on `luoshi.dlq.<consumer>` for inspection."""

    consumer: str
    subject: str
    payload: str
    error: str


SettingsT = TypeVar("SettingsT", bound=ServiceSettings)
READY_TIMEOUT_S = 2.0
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
        self.broker.add_middleware(EventLogContext)
        self.metrics = ServiceMetrics()
        self.publishers = Publishers(self.broker, self.subjects)
        self._dlq = self.publishers.declare(
            self.subjects.dead_letter(self.name), DeadLetter, "Events this service gave up on."
        )
        self.relay = OutboxRelay(
            self.engine,
            self._publish_counted,
            settings.outbox_interval_s,
            run_db=self.run_db,
            keep_days=settings.outbox_keep_days,
        )
        self._background: list[Callable[[], Awaitable[None]]] = []
        self._subject_label = subject_label(self.publishers.subjects)
        sampler = MetricsSampler(
            self.metrics, self.relay, self._jetstream, self._durable_names, settings.metrics_sample_s
        )
        self.add_background(sampler.run)
        self.consumers: list[tuple[str, str]] = []  # (subject, consumer): what its NATS user must be allowed
        self._durables: list[Durable] = []
        self.relay.add_pruning(
            "inbox", InboxPruning(self.subjects, self.consumers, self._jetstream, self.relay.delete_in_slices)
        )
        self.tokens = TokenCache(self.engine)
        self.consume(
            self.subjects.token_changed_all,
            consumer=f"{self.name}-token-changed",
            model=TokenChanged,
            handle=self._on_token_changed,
            description="Keeps this service's copy of the API tokens, so callers are checked locally.",
        )

    def _jetstream(self) -> JetStreamContext:
        return self.broker.config.connection_state.stream

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

    async def _publish_counted(self, messages: Sequence[Message]) -> list[BaseException | None]:
        results = await self.publishers.publish_all(messages)
        counts = Counter(
            (subject, result is None) for (subject, _payload, _id), result in zip(messages, results, strict=True)
        )
        for (subject, acked), count in counts.items():
            counter = self.metrics.events_published if acked else self.metrics.publish_failures
            counter.labels(self._subject_label(subject)).inc(count)
        return results

    def consume(self, subject: str, *, consumer: str, model: type[BaseModel], handle: Handle, description: str) -> None:
        """Subscribe `handle` through a durable consumer with this service's retry limit and dead letters."""
        self.consumers.append((subject, consumer))
        durable = durable_consumer(
            self.broker,
            subjects=self.subjects,
            subject=subject,
            consumer=consumer,
            model=model,
            handle=_counted(handle, self.metrics, subject, consumer),
            max_deliver=self.settings.max_deliver,
            dead_letter=self.dead_letter,
            description=description,
            inbox=self.inbox,
            backoff=self.settings.retry_backoff_s,
        )
        self._durables.append(durable)

    def add_background(self, loop: Callable[[], Awaitable[None]]) -> None:
        """A long-running coroutine started with the service and cancelled at its stop."""
        self._background.append(loop)

    async def dead_letter(self, subject: str, payload: bytes, error: str) -> None:
        self.metrics.events_dead_lettered.labels(subject).inc()
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

    def _durable_names(self) -> list[tuple[str, str]]:
        """(stream, durable) of each consumer, for the lag metrics."""
        return [(stream_for(self.subjects, s).name, durable_name(self.subjects, c)) for s, c in self.consumers]

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
        await ensure_streams(
            self.broker.config.connection_state.stream,
            self.subjects,
            self.publishers.streams(),
            self.settings.stream_limits(),
        )
        await update_durables(self._jetstream(), self._durables)
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

    async def _database_answers(self) -> bool:
        # In a thread whatever the database: a pool with every connection lent out, or a PostgreSQL
        # server that stopped answering, would otherwise stall every request behind the probe.
        try:
            return await asyncio.wait_for(asyncio.to_thread(ping, self.engine), READY_TIMEOUT_S)
        except TimeoutError:
            return False

    def health_router(self) -> APIRouter:
        router = APIRouter(tags=["health"], dependencies=[Depends(PUBLIC)])

        @router.get("/healthz", summary="Process is up")
        async def healthz() -> dict[str, str]:
            return {"status": "ok", "service": self.name}

        @router.get("/readyz", summary="NATS connected and database reachable")
        async def readyz() -> JSONResponse:
            checks = {"nats": self.nats_connected(), "database": await self._database_answers()}
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
    app = FastAPI(title=title, description=description, lifespan=runtime.lifespan, docs_url=None, redoc_url=None)
    app.add_middleware(BodyLimit, default=runtime.settings.max_body_bytes, routes=body_limits)
    app.add_middleware(ObserveRequests, metrics=runtime.metrics)
    app.state.runtime = runtime
    app.state.routers = [runtime.health_router(), metrics_router(), docs_router(title), *routers, audit_router()]
    for router in app.state.routers:
        for route in seal_router(router):
            log.warning("%s: route %s declares no caller role; it is refused", runtime.name, route)
        app.include_router(router)
    install_docs_assets(app)
    install_error_handlers(app)
    app.add_middleware(RefuseControlCharacters)
    return app


def _counted(handle: Handle, metrics: ServiceMetrics, subject: str, consumer: str) -> Handle:
    handled = metrics.events_consumed.labels(subject, consumer, "handled")
    failed = metrics.events_consumed.labels(subject, consumer, "failed")

    async def counted(event: Any) -> None:
        try:
            await handle(event)
        except Exception:
            failed.inc()
            raise
        handled.inc()

    return counted
