"""Group commit: one writer records whatever reports are waiting in one transaction, one fsync.

The POST route authenticates and parses, then hands its report to the writer's queue and waits.
The writer takes everything queued (up to `max_batch`) and, behind the write gate, records it
(`reports.record_reports`: each report checked on its own, a refused one gets its own 4xx and
leaves no trace), marks what the outbox relay has published since the last batch, commits once
and only then answers each request. The statements run through `ServiceRuntime.run_db` (on the
event loop for SQLite, in a worker thread for PostgreSQL); the commit, which waits on the disk,
always in a worker thread. A crash before the commit answers nobody; the clients' retries with
their Idempotency-Key are safe.

If the batch's commit fails (a key raced by another process on PostgreSQL, say), every report
of the batch is recorded again on its own, so one report's trouble is never another's answer.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlmodel import Session

from services.common.outbox import mark_published
from services.common.runtime import ServiceRuntime
from services.progress.gate import WriteGate
from services.progress.reports import Outcome, Submission, record_report, record_reports
from services.progress.schemas import ReportAccepted
from services.progress.status import Rules

log = logging.getLogger(__name__)

Waiting = tuple[Submission, "asyncio.Future[tuple[ReportAccepted, bool]]"]


class ReportWriter:
    def __init__(self, runtime: ServiceRuntime[Any], *, rules: Rules, gate: WriteGate, max_batch: int = 256) -> None:
        self._runtime = runtime
        self._rules = rules
        self._gate = gate
        self._max_batch = max_batch
        self._queue: asyncio.Queue[Waiting] | None = None

    async def submit(self, item: Submission) -> tuple[ReportAccepted, bool]:
        """Queue a report; resolves once it is committed (or with its own ApiError)."""
        if self._queue is None:
            raise RuntimeError("the report writer is not running")
        future: asyncio.Future[tuple[ReportAccepted, bool]] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((item, future))
        return await future

    async def run(self) -> None:
        self._queue = asyncio.Queue()
        queue = self._queue
        try:
            while True:
                batch = [await queue.get()]
                while len(batch) < self._max_batch and not queue.empty():
                    batch.append(queue.get_nowait())
                # Shielded: a stop during the write lets the commit finish and the answers go out.
                await asyncio.shield(self._write(batch))
        finally:
            self._queue = None
            while not queue.empty():
                _item, future = queue.get_nowait()
                if not future.done():
                    future.set_exception(RuntimeError("the service is stopping"))

    async def _write(self, batch: list[Waiting]) -> None:
        items = [item for item, _future in batch]
        try:
            await self._gate.enter()
            try:
                outcomes = await self._apply(items)
            finally:
                self._gate.leave()
        except Exception as exc:
            log.exception("recording %d reports failed", len(items))
            outcomes = [exc] * len(items)
        created = False
        for (_item, future), outcome in zip(batch, outcomes, strict=True):
            if future.done():  # the client went away; its report stands all the same
                continue
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                created = created or outcome[1]
                future.set_result(outcome)
        if created:
            self._runtime.relay.kick()

    async def _apply(self, items: list[Submission]) -> list[Outcome | Exception]:
        runtime = self._runtime
        relay = runtime.relay
        # The relay's pending "published" marks ride in this commit instead of costing one of their own.
        marks = relay.take_marks()
        session = Session(runtime.engine, expire_on_commit=False)
        try:
            outcomes = await runtime.run_db(self._record, session, items, marks)
            # The commit waits on the disk (the fsync, now and then SQLite's checkpoint) with the GIL
            # released: in a worker thread the loop goes on serving requests meanwhile.
            await asyncio.to_thread(session.commit)
            return list(outcomes)
        except Exception:
            relay.return_marks(marks)
            if len(items) == 1:
                raise
            log.warning("a batch of %d reports failed; recording them one by one", len(items), exc_info=True)
        finally:
            session.close()
        return [await runtime.run_db(self._apply_one, item) for item in items]

    def _record(self, session: Session, items: list[Submission], marks: list[int]) -> list[Outcome]:
        outcomes = record_reports(
            session=session, subjects=self._runtime.subjects, items=items, rules=self._rules, verify_tokens=True
        )
        mark_published(session.connection(), marks)
        return outcomes

    def _apply_one(self, item: Submission) -> Outcome | Exception:
        try:
            with Session(self._runtime.engine, expire_on_commit=False) as session:
                return record_report(
                    session=session,
                    subjects=self._runtime.subjects,
                    principal=item.principal,
                    task_id=item.task_id,
                    report=item.report,
                    idempotency_key=item.idempotency_key,
                    now=item.now,
                    rules=self._rules,
                    verify_tokens=True,
                )
        except Exception as exc:  # an ApiError is this report's own answer
            return exc
