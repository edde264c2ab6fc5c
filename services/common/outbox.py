"""The outbox: events are rows committed with the change that caused them, then relayed.

A crash between commit and publish loses nothing: the relay publishes every pending row at
start and on an interval. JetStream drops a re-published row by its `Nats-Msg-Id`.

Published rows are kept `keep_days` (7 by default, `OUTBOX_KEEP_DAYS`) for inspection and then
deleted, checked hourly: a year of reports would otherwise leave millions of rows that nothing
reads. The records themselves (reports, tasks, their history) live in the service's own tables;
an unpublished row is never deleted, however old.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Delete, bindparam, delete, insert, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql import func
from sqlmodel import Field, Session, SQLModel, select

from proto.envelope import Event
from services.common import heap
from services.common.logs import event_scope
from services.common.prepared import Prepared

log = logging.getLogger(__name__)

# Publishes (subject, payload, event id) messages in order; one result per message, None when acked.
PublishAll = Callable[[Sequence[tuple[str, bytes, str]]], Awaitable[list[BaseException | None]]]
RunDb = Callable[..., Awaitable[Any]]
# Rows read and marked per round trip to the database.
BATCH = 500
# Publishes in flight at once, their acks awaited together.
PIPELINE = 64
# How often published rows past their keeping time (and other tables' old rows) are deleted.
PRUNE_EVERY_S = 3600.0
# One hourly clean-up job (`OutboxRelay.add_pruning`): deletes what is due, returns how many rows.
Prune = Callable[[], Awaitable[int]]


def _correlation_id(payload: str) -> str | None:
    try:
        value = json.loads(payload).get("correlation_id")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


class OutboxEntry(SQLModel, table=True):
    __tablename__ = "outbox"

    seq: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(index=True, unique=True, max_length=64)
    subject: str = Field(max_length=300)
    payload: str
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    published_at: datetime | None = Field(default=None, index=True)


def stage(session: Session, subject: str, event: Event) -> None:
    """Queue an event for publishing; it goes out only if the session commits."""
    session.add(OutboxEntry(event_id=event.event_id, subject=subject, payload=event.model_dump_json()))


def outbox_row(subject: str, event: Event) -> dict[str, Any]:
    """An outbox row as plain values, for writers that insert many with one statement (`stage_rows`)."""
    return {
        "event_id": event.event_id,
        "subject": subject,
        "payload": event.model_dump_json(),
        "created_at": datetime.now(UTC),
        "published_at": None,
    }


def stage_rows(session: Session, rows: list[dict[str, Any]]) -> None:
    """Queue many events with one INSERT; like `stage`, they go out only if the session commits."""
    if rows:
        _INSERT.run(session.connection(), rows)


class OutboxRelay:
    """Publishes committed outbox rows in order, then marks them published.

    Rows are read past the last one published (`seq > sent_through`), so a row published but not
    yet marked is never sent twice by the running relay; after a restart the high-water mark starts
    at 0 and unmarked rows go out again, dropped by JetStream by their `Nats-Msg-Id`.

    Marking costs a commit, and a commit costs an fsync. A writer that commits often (the report
    writer) takes the pending marks into its own transaction (`take_marks`, and `return_marks` if
    that transaction fails); whatever no writer took within `interval_s` the relay marks itself,
    in one commit.
    """

    def __init__(
        self,
        engine: Engine,
        publish_all: PublishAll,
        interval_s: float = 1.0,
        *,
        run_db: RunDb | None = None,
        keep_days: float = 7.0,
    ) -> None:
        self._engine = engine
        self._keep = timedelta(days=keep_days) if keep_days > 0 else None
        self._next_prune = 0.0
        self._pruning: dict[str, Prune] = {"outbox": self._prune_outbox} if self._keep else {}
        self._run_db: RunDb = run_db or asyncio.to_thread
        self._publish_all = publish_all
        self._interval = interval_s
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sent_through = 0
        self._marks: list[int] = []
        self._marks_since: float | None = None
        self._marks_lock = threading.Lock()
        self._failed: tuple[str | None, str | None] = (None, None)  # the event a flush stopped at
        # A service that serialises its writers (SQLite) sets its gate here, so the "published"
        # marks wait their turn instead of meeting a locked database and SQLite's sleeping retries.
        self.write_gate: AbstractContextManager[Any] = contextlib.nullcontext()

    def kick(self) -> None:
        """Wake the relay now; safe from sync routes, which FastAPI runs in worker threads."""
        loop = self._loop
        if loop is None:
            return
        try:
            same_loop = asyncio.get_running_loop() is loop
        except RuntimeError:
            same_loop = False
        if same_loop:
            self._wake.set()
        else:
            loop.call_soon_threadsafe(self._wake.set)

    def take_marks(self) -> list[int]:
        """Seqs published but not yet marked, for a writer to mark in the transaction it is about to commit."""
        with self._marks_lock:
            taken, self._marks, self._marks_since = self._marks, [], None
        return taken

    def return_marks(self, seqs: list[int]) -> None:
        """A writer's transaction with these marks failed: the relay keeps them to mark later."""
        if seqs:
            with self._marks_lock:
                self._marks[:0] = seqs
                self._marks_since = self._marks_since or time.monotonic()

    async def flush(self) -> int:
        """Publish every pending row in order; stops at the first failure to keep order.

        The database read goes through `run_db` (the service's: inline for SQLite, a worker thread otherwise).
        """
        sent = 0
        async with self._lock:
            while True:
                rows = await self._run_db(self._pending, BATCH, self._sent_through)
                if not rows:
                    return sent
                # Sent together, in order, each with its Nats-Msg-Id; the acks are awaited as a
                # group instead of one round trip per event. Only the rows up to the first failure
                # count as sent; any later ones that did go out are re-published and dropped by their id.
                for start in range(0, len(rows), PIPELINE):
                    chunk = rows[start : start + PIPELINE]
                    results = await self._publish_all(
                        [(subject, payload.encode(), event_id) for _seq, subject, payload, event_id in chunk]
                    )
                    done = []
                    for (seq, _subject, payload, event_id), result in zip(chunk, results, strict=True):
                        if isinstance(result, BaseException):
                            self._sent(done)
                            self._failed = (event_id, _correlation_id(payload))  # names it in the log line
                            raise result
                        done.append(seq)
                    self._sent(done)
                    sent += len(done)
                if len(rows) < BATCH:
                    # A short read took every pending row; rows committed since came with a kick.
                    return sent

    def _sent(self, seqs: list[int]) -> None:
        if seqs:
            self._sent_through = seqs[-1]
            with self._marks_lock:
                self._marks.extend(seqs)
                self._marks_since = self._marks_since or time.monotonic()

    async def mark_due(self, *, force: bool = False) -> None:
        """Mark what no writer took within the interval (or everything, with `force`), in one commit."""
        with self._marks_lock:
            due = self._marks_since is not None and (force or time.monotonic() - self._marks_since >= self._interval)
        if not due:
            return
        seqs = self.take_marks()
        try:
            # A thread even on SQLite: the mark waits for the write gate, which a long writer may hold.
            await asyncio.to_thread(self._mark_own, seqs)
        except BaseException:
            self.return_marks(seqs)
            raise

    def backlog(self) -> tuple[int, float]:
        """Events committed and not yet sent by this relay, and the age in seconds of the oldest (for metrics).

        Rows sent but not yet marked published are not counted: they are out. Blocking: run it in a thread.
        """
        with self._engine.connect() as conn:
            count, oldest = conn.execute(_BACKLOG, {"after": self._sent_through}).one()
        if oldest is None:
            return count, 0.0
        if oldest.tzinfo is None:  # SQLite keeps no zone; the rows are written in UTC
            oldest = oldest.replace(tzinfo=UTC)
        return count, max(0.0, (datetime.now(UTC) - oldest).total_seconds())

    def _pending(self, limit: int, after: int) -> list[tuple[int, str, str, str]]:
        with self._engine.connect() as conn:
            return _PENDING.rows(conn, {"after": after, "limit": limit})  # type: ignore[return-value]

    def _mark_own(self, seqs: list[int]) -> None:
        with self.write_gate, self._engine.begin() as conn:
            mark_published(conn, seqs)

    def add_pruning(self, name: str, job: Prune) -> None:
        """Another table's clean-up, run with the outbox's: one hourly loop, one write gate."""
        self._pruning[name] = job

    async def prune_due(self) -> None:
        """Run the pruning jobs (the outbox's: rows published `keep_days` ago), at most once per `PRUNE_EVERY_S`."""
        if not self._pruning or time.monotonic() < self._next_prune:
            return
        self._next_prune = time.monotonic() + PRUNE_EVERY_S
        for name, job in self._pruning.items():
            try:
                deleted = await job()
            except Exception:  # one table's failure must not stop the others' clean-up
                log.warning("%s: pruning failed; tried again in an hour", name, exc_info=True)
                continue
            if deleted:
                log.info("%s: deleted %d old rows", name, deleted)

    async def _prune_outbox(self) -> int:
        assert self._keep is not None
        return await self.delete_in_slices(_PRUNE, {"before": datetime.now(UTC) - self._keep})

    def prune(self, before: datetime) -> int:
        """Delete rows published before `before`."""
        return self._delete_slices(_PRUNE, {"before": before})

    async def delete_in_slices(self, statement: Delete, params: dict[str, Any]) -> int:
        """Run a `DELETE … WHERE key IN (SELECT … LIMIT :limit)` until it deletes fewer than `BATCH`.

        A thread even on SQLite: each slice waits for the write gate like the marks do.
        """
        return await asyncio.to_thread(self._delete_slices, statement, params)

    def _delete_slices(self, statement: Delete, params: dict[str, Any]) -> int:
        # `BATCH` per transaction, so writers go in between.
        deleted = 0
        while True:
            with self.write_gate, self._engine.begin() as conn:
                count = conn.execute(statement, {**params, "limit": BATCH}).rowcount
            deleted += count
            if count < BATCH:
                return deleted

    async def _run(self) -> None:
        while not self._stopping:
            try:
                if await self.flush() >= BATCH:
                    heap.release()  # a burst (a clock tick's status changes) leaves the C heap swollen
                await self.mark_due()
                await self.prune_due()
            except Exception as exc:
                # NATS down or slow is expected and retried: a line naming the event, no traceback.
                failed, self._failed = self._failed, (None, None)
                with event_scope(*failed):
                    log.warning("outbox relay could not publish (%r); will retry", exc, exc_info=not failed[0])
            # Not asyncio.wait_for: on Python 3.11 it swallows a cancellation that arrives as the
            # wake-up completes (a kick during stop), and the relay then never stops.
            waiter = asyncio.ensure_future(self._wake.wait())
            try:
                await asyncio.wait({waiter}, timeout=self._interval)
            finally:
                waiter.cancel()
            self._wake.clear()

    def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._sent_through = 0
            self._loop = asyncio.get_running_loop()
            self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        if self._task is not None:
            self._stopping = True
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
            try:
                await self.mark_due(force=True)
            except Exception:  # unmarked rows go out again at the next start and are dropped by id
                log.warning("outbox relay could not mark its last rows published", exc_info=True)


def mark_published(conn: Connection, seqs: list[int]) -> None:
    """Mark outbox rows published, inside the caller's transaction.

    In slices of `BATCH`: after a burst (a clock tick's status changes) the relay may hold a hundred
    thousand marks, and one statement with that many binds exceeds PostgreSQL's 65,535.
    """
    at = datetime.now(UTC)
    for start in range(0, len(seqs), BATCH):
        _MARK.run(conn, {"seqs": seqs[start : start + BATCH], "at": at})


_OUTBOX = OutboxEntry.__table__  # type: ignore[attr-defined]
# Built once: the relay reads often under load, and building a statement costs more than running it.
_PENDING = Prepared(
    select(_OUTBOX.c.seq, _OUTBOX.c.subject, _OUTBOX.c.payload, _OUTBOX.c.event_id)
    .where(_OUTBOX.c.published_at.is_(None), _OUTBOX.c.seq > bindparam("after"))
    .order_by(_OUTBOX.c.seq)
    .limit(bindparam("limit"))
)
_INSERT = Prepared(insert(_OUTBOX))
_BACKLOG = select(func.count(), func.min(_OUTBOX.c.created_at)).where(
    _OUTBOX.c.published_at.is_(None), _OUTBOX.c.seq > bindparam("after")
)
# By primary key from a limited subquery: neither PostgreSQL nor a default SQLite build has DELETE … LIMIT.
_PRUNE = delete(_OUTBOX).where(
    _OUTBOX.c.seq.in_(
        select(_OUTBOX.c.seq)
        .where(_OUTBOX.c.published_at < bindparam("before"))
        .order_by(_OUTBOX.c.published_at)
        .limit(bindparam("limit"))
    )
)
_MARK = Prepared(
    update(_OUTBOX).where(_OUTBOX.c.seq.in_(bindparam("seqs", expanding=True))).values(published_at=bindparam("at"))
)
