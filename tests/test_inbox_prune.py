"""Inbox rows go when their event can no longer come back: after the stream's max age, as the server has it."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta

import nats
import pytest
from nats.aio.client import Client
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from proto.subjects import Subjects
from services.common.db import create_tables
from services.common.inbox import InboxEntry
from services.common.inboxprune import InboxPruning
from services.common.natsserver import NatsServer
from services.common.outbox import OutboxEntry, OutboxRelay
from services.common.streams import DAY_S, StreamLimits, ensure_streams

pytestmark = pytest.mark.nats

NOTICE = "registry-notice-parsed"  # on the notice stream (2 days here)
TOKENS = "registry-token-changed"  # on the token stream, which never ages


@pytest.fixture
async def conn(nats_server: NatsServer) -> AsyncIterator[Client]:
    client = await nats.connect(nats_server.url)
    yield client
    await client.close()


@pytest.fixture
def engine(sql_engine: Engine) -> Engine:
    """SQLite and PostgreSQL: the slice's DELETE … IN (SELECT … LIMIT) must run on both."""
    create_tables(sql_engine, [InboxEntry, OutboxEntry])
    return sql_engine


async def _never_publish(messages: Sequence[tuple[str, bytes, str]]) -> list[BaseException | None]:
    return [None] * len(messages)


def _rows(engine: Engine, rows: dict[str, tuple[str, float]]) -> None:
    now = datetime.now(UTC)
    with Session(engine) as session:
        for event_id, (consumer, days) in rows.items():
            session.add(InboxEntry(consumer=consumer, event_id=event_id, processed_at=now - timedelta(days=days)))
        session.commit()


def _left(engine: Engine) -> set[str]:
    with Session(engine) as session:
        return set(session.exec(select(InboxEntry.event_id)).all())


async def test_the_hourly_pruning_deletes_only_ids_that_cannot_come_back(
    conn: Client, engine: Engine, subject_root: str
) -> None:
    subjects = Subjects(subject_root)
    await ensure_streams(conn.jetstream(), subjects, set(), StreamLimits(max_age_days=2))
    relay = OutboxRelay(engine, _never_publish, keep_days=7)
    consumers = [(subjects.notice_parsed, NOTICE), (subjects.token_changed_all, TOKENS)]
    relay.add_pruning("inbox", InboxPruning(subjects, consumers, conn.jetstream, relay.delete_in_slices))
    # 2 days of age + 120 s of duplicate window + a day for clocks: anything younger than ~3 days stays.
    _rows(engine, {"old": (NOTICE, 3.1), "young": (NOTICE, 2.9), "old-token": (TOKENS, 400)})
    _rows(engine, {f"bulk{n}": (NOTICE, 10) for n in range(1200)})  # more than one slice
    await relay.prune_due()
    assert _left(engine) == {"young", "old-token"}


async def test_a_stream_an_operator_lengthened_keeps_its_consumers_rows_longer(
    conn: Client, engine: Engine, subject_root: str
) -> None:
    subjects = Subjects(subject_root)
    js = conn.jetstream()
    await ensure_streams(js, subjects, set(), StreamLimits(max_age_days=2))
    name = f"{subject_root.upper()}_NOTICE"
    await js.update_stream(dataclasses.replace((await js.stream_info(name)).config, max_age=30 * DAY_S))
    relay = OutboxRelay(engine, _never_publish, keep_days=0)  # the outbox keeps all; the inbox still prunes
    relay.add_pruning(
        "inbox", InboxPruning(subjects, [(subjects.notice_parsed, NOTICE)], conn.jetstream, relay.delete_in_slices)
    )
    _rows(engine, {"ten-days": (NOTICE, 10), "forty-days": (NOTICE, 40)})
    await relay.prune_due()
    assert _left(engine) == {"ten-days"}
