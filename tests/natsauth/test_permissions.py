"""Each NATS user against a real nats-server running the generated users and permissions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import nats
import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.js.errors import APIError

from proto.subjects import Subjects
from services.common.natsauth import CONSUMES, PUBLISHES, SERVICES, durable_name, inbox_prefix, stream_of
from services.common.streams import ensure_streams
from tests.helpers import eventually
from tests.natsauth.conftest import AuthServer

pytestmark = pytest.mark.nats


class Session:
    """One connection and the asynchronous errors (permission violations) the server sent it."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.nc: Client | None = None

    async def on_error(self, exc: Exception) -> None:
        self.errors.append(str(exc).lower())

    async def violation(self, what: str) -> bool:
        return any("permissions violation" in e and what.lower() in e for e in self.errors)


@asynccontextmanager
async def connect_as(auth: AuthServer, user: str, password: str | None = None) -> AsyncIterator[Session]:
    session = Session()
    creds = auth.credentials[user]
    session.nc = await nats.connect(
        auth.url,
        user=creds.user,
        password=password or creds.password,
        inbox_prefix=inbox_prefix(user),
        error_cb=session.on_error,
        allow_reconnect=False,
    )
    try:
        yield session
    finally:
        await session.nc.close()


async def _streams_ready(auth: AuthServer) -> None:
    """The streams, created and updated by their owners as the services do at start."""
    for service in SERVICES:
        async with connect_as(auth, service) as s:
            assert s.nc is not None
            owned = {stream_of(auth.subjects, _concrete(p)) for p in _events(auth.subjects, service)}
            await ensure_streams(s.nc.jetstream(), auth.subjects, owned)


def _events(subjects: Subjects, service: str) -> list[str]:
    return [f"{subjects.root}.{p}" for p in PUBLISHES[service]] + [subjects.dead_letter(service)]


def _concrete(pattern: str) -> str:
    return pattern.replace(">", "x").replace("*", "x")


async def test_anonymous_and_wrong_password_connections_are_refused(auth_nats: AuthServer) -> None:
    with pytest.raises(NatsError, match="Authorization Violation"):
        await nats.connect(auth_nats.url, allow_reconnect=False, max_reconnect_attempts=0)
    with pytest.raises(NatsError, match="Authorization Violation"):
        async with connect_as(auth_nats, "registry", password="guessed"):
            pass


async def test_each_service_publishes_its_own_subjects_with_acks(auth_nats: AuthServer) -> None:
    await _streams_ready(auth_nats)
    for service in SERVICES:
        async with connect_as(auth_nats, service) as s:
            assert s.nc is not None
            js = s.nc.jetstream()
            for pattern in _events(auth_nats.subjects, service):
                if pattern.endswith(".token.changed.*"):
                    continue  # the token stream arrives with token replication
                ack = await js.publish(_concrete(pattern), b"{}", timeout=3)
                assert ack.seq >= 1, (service, pattern)
        assert s.errors == [], (service, s.errors)


async def test_a_service_cannot_publish_another_services_subject(auth_nats: AuthServer) -> None:
    await _streams_ready(auth_nats)
    subjects = auth_nats.subjects
    async with connect_as(auth_nats, "progress") as s:
        assert s.nc is not None
        js = s.nc.jetstream(timeout=1)
        with pytest.raises(asyncio.TimeoutError):
            await js.publish(subjects.task_upserted, b"{}", timeout=1)
        await eventually(lambda: s.violation(f'publish to "{subjects.task_upserted}"'), what="a publish violation")
        with pytest.raises(asyncio.TimeoutError):  # nor may it change a stream it does not publish to
            await js.update_stream(name=stream_of(subjects, subjects.task_upserted), subjects=["x.>"])
    async with connect_as(auth_nats, "registry") as s:
        assert s.nc is not None
        info = await s.nc.jetstream().stream_info(stream_of(subjects, subjects.task_upserted))
        assert info.state.messages == 0


async def test_a_service_cannot_pull_another_services_consumer_or_read_its_replies(auth_nats: AuthServer) -> None:
    await _streams_ready(auth_nats)
    subjects = auth_nats.subjects
    [registry_consumer, _token] = CONSUMES["registry"]
    async with connect_as(auth_nats, "progress") as s:
        assert s.nc is not None
        with pytest.raises((asyncio.TimeoutError, APIError)):
            await s.nc.jetstream(timeout=1).pull_subscribe(
                subjects.notice_parsed,
                durable=durable_name(subjects, registry_consumer.name),
                stream=stream_of(subjects, subjects.notice_parsed),
            )
        await s.nc.subscribe("_INBOX.>")  # where every other user's replies and fetched events go
        await s.nc.subscribe(subjects.notice_parsed)
        await s.nc.flush()
        await eventually(lambda: s.violation('subscription to "_inbox.>"'), what="an inbox subscription violation")
        await eventually(lambda: s.violation(f'subscription to "{subjects.notice_parsed}"'), what="a violation")


async def test_supervisor_reads_escalations_and_can_do_nothing_else(auth_nats: AuthServer) -> None:
    await _streams_ready(auth_nats)
    subjects = auth_nats.subjects
    escalation = subjects.escalation_raised_for_id("red", "u1234567890")
    received: list[Msg] = []

    async def on_escalation(msg: Msg) -> None:
        received.append(msg)

    async with connect_as(auth_nats, "supervisor") as sup:
        assert sup.nc is not None
        await sup.nc.subscribe(subjects.escalation_raised_all, cb=on_escalation)
        await sup.nc.subscribe(subjects.task_upserted)
        await sup.nc.flush()
        async with connect_as(auth_nats, "notify") as notify:
            assert notify.nc is not None
            await notify.nc.jetstream().publish(escalation, b'{"level": "red"}', timeout=3)

        async def got_it() -> bool:
            return len(received) == 1

        await eventually(got_it, what="the supervisor to receive the escalation")
        assert received[0].subject == escalation
        await sup.nc.publish(escalation, b"forged")
        await sup.nc.publish(subjects.task_upserted, b"forged")
        await sup.nc.flush()
        await eventually(lambda: sup.violation(f'publish to "{escalation}"'), what="a publish violation")
        await eventually(lambda: sup.violation(f'publish to "{subjects.task_upserted}"'), what="a publish violation")
        await eventually(lambda: sup.violation(f'subscription to "{subjects.task_upserted}"'), what="a violation")
        with pytest.raises(asyncio.TimeoutError):  # no JetStream API either
            await sup.nc.jetstream(timeout=1).stream_info(stream_of(subjects, escalation))
    await asyncio.sleep(0.2)
    assert len(received) == 1  # its own forged publish never went out
