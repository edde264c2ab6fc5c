"""The outbox relay: every committed row published once, in order, and marked without a commit of its own under load."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlmodel import Session

from proto.envelope import Event
from services.common.db import create_tables, make_engine
from services.common.outbox import BATCH, OutboxEntry, OutboxRelay, mark_published, stage
from tests.helpers import eventually


class Recorder:
    def __init__(self, fail_on: str | None = None) -> None:
        self.sent: list[str] = []
        self.fail_on = fail_on

    async def __call__(self, messages: Sequence[tuple[str, bytes, str]]) -> list[BaseException | None]:
        results: list[BaseException | None] = []
        for _subject, _payload, event_id in messages:
            if event_id == self.fail_on:
                results.append(ConnectionError("nats is down"))
            else:
                self.sent.append(event_id)
                results.append(None)
        return results


@pytest.fixture
def engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'outbox.db'}")
    create_tables(engine, [OutboxEntry])
    yield engine
    engine.dispose()


def _stage(engine, *ids: str) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        for event_id in ids:
            stage(session, "t.subject", Event(event_id=event_id, source="test"))
        session.commit()


def _unmarked(engine) -> list[str]:  # type: ignore[no-untyped-def]
    table = OutboxEntry.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        return list(conn.execute(select(table.c.event_id).where(table.c.published_at.is_(None))).scalars())


async def test_published_rows_go_out_once_while_their_marks_wait(engine) -> None:  # type: ignore[no-untyped-def]
    publish = Recorder()
    relay = OutboxRelay(engine, publish, interval_s=60)
    _stage(engine, "e1", "e2")
    assert await relay.flush() == 2
    _stage(engine, "e3")
    assert await relay.flush() == 1
    assert publish.sent == ["e1", "e2", "e3"]  # e1 and e2 still unmarked, not sent again
    assert _unmarked(engine) == ["e1", "e2", "e3"]
    await relay.mark_due()  # not yet due: nobody waited the interval
    assert _unmarked(engine) == ["e1", "e2", "e3"]
    await relay.mark_due(force=True)
    assert _unmarked(engine) == []


async def test_a_writer_takes_the_marks_into_its_transaction_and_returns_them_on_failure(engine) -> None:  # type: ignore[no-untyped-def]
    relay = OutboxRelay(engine, Recorder(), interval_s=60)
    _stage(engine, "e1", "e2")
    await relay.flush()

    marks = relay.take_marks()
    with Session(engine) as session:
        mark_published(session.connection(), marks)
        session.rollback()  # the writer's batch failed
    relay.return_marks(marks)
    assert _unmarked(engine) == ["e1", "e2"]

    marks = relay.take_marks()
    assert len(marks) == 2
    with Session(engine) as session:
        mark_published(session.connection(), marks)
        session.commit()
    assert _unmarked(engine) == []
    assert relay.take_marks() == []


async def test_a_failed_publish_stops_the_order_and_the_rest_goes_out_next_time(engine) -> None:  # type: ignore[no-untyped-def]
    publish = Recorder(fail_on="e2")
    relay = OutboxRelay(engine, publish, interval_s=60)
    _stage(engine, "e1", "e2", "e3")
    with pytest.raises(ConnectionError):
        await relay.flush()
    publish.fail_on = None
    await relay.flush()
    # e1 once; e2 and e3 retried in order (e3 may have gone out beside the failure: JetStream drops it by id)
    assert publish.sent[0] == "e1" and publish.sent.count("e1") == 1
    assert publish.sent[-2:] == ["e2", "e3"]
    await relay.mark_due(force=True)
    assert _unmarked(engine) == []


async def test_a_new_relay_publishes_again_what_was_never_marked(engine) -> None:  # type: ignore[no-untyped-def]
    first = Recorder()
    relay = OutboxRelay(engine, first, interval_s=60)
    _stage(engine, "e1")
    await relay.flush()  # published, then the process died before any mark
    second = Recorder()
    assert await OutboxRelay(engine, second, interval_s=60).flush() == 1
    assert second.sent == ["e1"]  # the stream's duplicate window drops it by its Nats-Msg-Id


async def test_stop_marks_what_no_writer_took(engine) -> None:  # type: ignore[no-untyped-def]
    publish = Recorder()
    relay = OutboxRelay(engine, publish, interval_s=60)
    _stage(engine, "e1")
    relay.start()
    relay.kick()

    async def sent() -> list[str]:
        return publish.sent

    await eventually(sent, what="the relay to publish e1")
    assert _unmarked(engine) == ["e1"]  # the interval has not passed and no writer came
    await relay.stop()
    assert _unmarked(engine) == []


async def test_a_burst_of_marks_larger_than_any_statement_allows_is_marked(sql_engine) -> None:  # type: ignore[no-untyped-def]
    """A clock tick can leave 100,000 marks; PostgreSQL takes at most 65,535 binds in one statement."""
    create_tables(sql_engine, [OutboxEntry])
    table = OutboxEntry.__table__  # type: ignore[attr-defined]
    with sql_engine.begin() as conn:
        conn.execute(table.insert(), [{"event_id": f"b{n}", "subject": "t.s", "payload": "{}"} for n in range(70_000)])
    with sql_engine.begin() as conn:
        seqs = list(conn.execute(select(table.c.seq)).scalars())
        mark_published(conn, seqs)
    assert _unmarked(sql_engine) == []


def _events(engine) -> list[str]:  # type: ignore[no-untyped-def]
    table = OutboxEntry.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        return list(conn.execute(select(table.c.event_id).order_by(table.c.seq)).scalars())


def _published_on(engine, when: datetime, *ids: str) -> None:  # type: ignore[no-untyped-def]
    table = OutboxEntry.__table__  # type: ignore[attr-defined]
    with engine.begin() as conn:
        conn.execute(update(table).where(table.c.event_id.in_(ids)).values(published_at=when, created_at=when))


async def test_published_rows_past_their_keeping_time_are_deleted_and_unpublished_ones_never(sql_engine) -> None:  # type: ignore[no-untyped-def]
    create_tables(sql_engine, [OutboxEntry])
    now = datetime.now(UTC)
    _stage(sql_engine, "old1", "old2", "recent", "stuck")
    _published_on(sql_engine, now - timedelta(days=30), "old1", "old2")
    _published_on(sql_engine, now - timedelta(days=1), "recent")
    table = OutboxEntry.__table__  # type: ignore[attr-defined]
    with sql_engine.begin() as conn:  # never published, however old: it must still go out
        conn.execute(update(table).where(table.c.event_id == "stuck").values(created_at=now - timedelta(days=90)))

    relay = OutboxRelay(sql_engine, Recorder(), interval_s=60, keep_days=7)
    assert relay.prune(now - timedelta(days=7)) == 2
    assert _events(sql_engine) == ["recent", "stuck"]
    assert _unmarked(sql_engine) == ["stuck"]


async def test_pruning_goes_slice_by_slice_through_a_large_backlog(sql_engine) -> None:  # type: ignore[no-untyped-def]
    create_tables(sql_engine, [OutboxEntry])
    table = OutboxEntry.__table__  # type: ignore[attr-defined]
    old = datetime.now(UTC) - timedelta(days=30)
    rows = [{"event_id": f"b{n}", "subject": "t.s", "payload": "{}", "published_at": old} for n in range(2 * BATCH + 7)]
    with sql_engine.begin() as conn:
        conn.execute(table.insert(), rows)
    _stage(sql_engine, "kept")
    assert OutboxRelay(sql_engine, Recorder(), keep_days=7).prune(datetime.now(UTC) - timedelta(days=7)) == len(rows)
    assert _events(sql_engine) == ["kept"]


async def test_the_relay_prunes_on_its_own_unless_told_to_keep_everything(engine) -> None:  # type: ignore[no-untyped-def]
    _stage(engine, "old")
    _published_on(engine, datetime.now(UTC) - timedelta(days=30), "old")

    await OutboxRelay(engine, Recorder(), keep_days=0).prune_due()
    assert _events(engine) == ["old"]
    await OutboxRelay(engine, Recorder(), keep_days=7).prune_due()
    assert _events(engine) == []
