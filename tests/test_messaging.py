"""JetStream publishes with their acks gathered on one inbox: each event's own result, on a real nats-server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import nats
import pytest
from nats.aio.client import Client
from nats.js.api import DiscardPolicy, StreamConfig
from nats.js.errors import APIError, NoStreamResponseError

from services.common.messaging import JetStreamAcks
from services.common.natsserver import NatsServer

pytestmark = pytest.mark.nats


@pytest.fixture
async def client(nats_server: NatsServer, subject_root: str) -> AsyncIterator[Client]:
    conn = await nats.connect(nats_server.url)
    await conn.jetstream().add_stream(name=f"{subject_root}_ok", subjects=[f"{subject_root}.ok.>"])
    yield conn
    await conn.jetstream().delete_stream(f"{subject_root}_ok")
    await conn.close()


async def _count(conn: Client, stream: str) -> int:
    return int((await conn.jetstream().stream_info(stream)).state.messages)


async def test_each_event_is_acked_once_and_a_repeat_is_dropped_by_its_id(client: Client, subject_root: str) -> None:
    acks = JetStreamAcks()
    messages = [(f"{subject_root}.ok.{n}", b'{"n": %d}' % n, f"e{n}") for n in range(300)]
    assert await acks.publish_all(client, messages) == [None] * 300
    assert await acks.publish_all(client, messages[:10]) == [None] * 10  # re-published after a crash
    assert await _count(client, f"{subject_root}_ok") == 300


async def test_a_subject_without_a_stream_fails_alone(client: Client, subject_root: str) -> None:
    messages = [
        (f"{subject_root}.ok.1", b"{}", "a"),
        (f"{subject_root}.nowhere", b"{}", "b"),
        (f"{subject_root}.ok.2", b"{}", "c"),
    ]
    first, missing, last = await JetStreamAcks().publish_all(client, messages)
    assert first is None and last is None
    assert isinstance(missing, NoStreamResponseError)


async def test_a_refusal_by_the_stream_is_that_events_error(client: Client, subject_root: str) -> None:
    js = client.jetstream()
    await js.add_stream(
        StreamConfig(
            name=f"{subject_root}_full", subjects=[f"{subject_root}.full"], max_msgs=1, discard=DiscardPolicy.NEW
        )
    )
    try:
        results = await JetStreamAcks().publish_all(
            client, [(f"{subject_root}.full", b"{}", f"f{n}") for n in range(2)]
        )
        assert results[0] is None
        assert isinstance(results[1], APIError) and "maximum messages" in str(results[1])
    finally:
        await js.delete_stream(f"{subject_root}_full")


async def test_an_event_nobody_acks_times_out(client: Client, subject_root: str) -> None:
    await client.subscribe(f"{subject_root}.silent")  # a responder that never answers: no 503, no ack
    ok, silent = await JetStreamAcks().publish_all(
        client, [(f"{subject_root}.ok.1", b"{}", "s1"), (f"{subject_root}.silent", b"{}", "s2")], timeout=0.3
    )
    assert ok is None
    assert isinstance(silent, TimeoutError)


async def test_a_closed_connection_fails_every_event_and_a_new_one_works(
    nats_server: NatsServer, client: Client, subject_root: str
) -> None:
    acks = JetStreamAcks()
    other = await nats.connect(nats_server.url)
    await other.close()
    results = await acks.publish_all(
        other, [(f"{subject_root}.ok.1", b"{}", "c1"), (f"{subject_root}.ok.2", b"{}", "c2")]
    )
    assert all(isinstance(r, Exception) for r in results)
    assert await acks.publish_all(client, [(f"{subject_root}.ok.1", b"{}", "c1")]) == [None]
