"""Group commit: one writer records whatever reports are waiting in one transaction, one fsync.

The POST route authenticates and parses, then hands its report to the writer's queue and waits.
The writer takes everything queued (up to `max_batch`) and, behind the write gate, records it
(`reports.record_reports`: each report checked on its own, a refused one gets its own 4xx and
leaves no trace), marks what the outbox relay has published since the last batch, commits once
and only then answers each request. The statements run through `ServiceRuntime.run_db` (on the
event loop for SQLite, in a worker thread for PostgreSQL); the commit, which waits on the disk,
always in a worker thread. A crash before the commit answers nobody; the clients' retries with
their Idempotency-Key are safe.

When reports come faster than one per `wait_s` (2 ms by default, `GROUP_COMMIT_WAIT_MS`), the
writer waits that long after the first of a batch before recording it. Every batch has a fixed
cost (about ten statements, the commit's hop to a worker thread and its fsync, a relay round):
at 1,000 reports/s without the wait, batches held 1.6 reports on average and the service used
0.97 of a core; with it, about 3 reports and 0.70 of a core, for ~0.5 ms more at the median.
Slower arrivals are written at once.

If the batch's commit fails (a key raced by another process on PostgreSQL, say), every report
of the batch is recorded again on its own, so one report's trouble is never another's answer.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from prometheus_client import CollectorRegistry, Histogram
from sqlmodel import Session

from services.common.outbox import mark_published
from services.common.runtime import ServiceRuntime
from services.progress.gate import WriteGate
from services.progress.reports import Outcome, Submission, record_report, record_reports
from services.progress.schemas import ReportAccepted
from services.progress.status import Rules

log = logging.getLogger(__name__)

Waiting = tuple[Submission, "asyncio.Future[tuple[ReportAccepted, bool]]"]

# Weight of the newest gap between two reports in the running mean the writer waits by: about the
# last twenty arrivals count, so one burst or one lull does not switch the waiting on or off.
_GAP_WEIGHT = 0.05


def batch_size_histogram(registry: CollectorRegistry | None) -> Histogram:
    """Reports per commit, for /metrics; on no registry (a writer in a test) it is counted nowhere."""
    buckets = (1, 2, 4, 8, 16, 32, 64, 128, 256)  # at most `max_batch`
    return Histogram(
        "luoshi_report_batch_size",
        "Reports recorded per commit by the report writer.",
        buckets=buckets,
        registry=registry,
    )


def _end_wait(waiting: asyncio.Future[None]) -> None:
    if not waiting.done():
        waiting.set_result(None)


class ReportWriter:
    def __init__(
        self,
        runtime: ServiceRuntime[Any],
        *,
        rules: Rules,
        gate: WriteGate,
        max_batch: int = 256,
        wait_s: float = 0.0,
        batch_sizes: Histogram | None = None,
    ) -> None:
        self._runtime = runtime
        self._rules = rules
        self._gate = gate
        self._max_batch = max_batch
        self._wait_s = wait_s
        self._queue: asyncio.Queue[Waiting] | None = None
        self._mean_gap = 1.0  # seconds between reports, running mean; starts as "slow"
        self._last_arrival = 0.0
        self._waiting: asyncio.Future[None] | None = None
        self._batch_sizes = batch_sizes or batch_size_histogram(None)

    async def submit(self, item: Submission) -> tuple[ReportAccepted, bool]:
        """Queue a report; resolves once it is committed (or with its own ApiError)."""
        if self._queue is None:
            raise RuntimeError("the report writer is not running")
        loop = asyncio.get_running_loop()
        now = loop.time()
        self._mean_gap += (min(now - self._last_arrival, 1.0) - self._mean_gap) * _GAP_WEIGHT
        self._last_arrival = now
        future: asyncio.Future[tuple[ReportAccepted, bool]] = loop.create_future()
        self._queue.put_nowait((item, future))
        return await future

    async def run(self) -> None:
        self._queue = asyncio.Queue()
        queue = self._queue
        current: asyncio.Future[None] | None = None
        try:
            while True:
                first = await queue.get()
                # Shielded: a stop during the wait or the write lets the batch be committed and answered.
                current = asyncio.ensure_future(self._collect_and_write(queue, first))
                await asyncio.shield(current)
        finally:
            self._queue = None
            if current is not None and not current.done():
                if self._waiting is not None:
                    _end_wait(self._waiting)
                await asyncio.wait({current})
            while not queue.empty():
                _item, future = queue.get_nowait()
                if not future.done():
                    future.set_exception(RuntimeError("the service is stopping"))

    async def _collect_and_write(self, queue: asyncio.Queue[Waiting], first: Waiting) -> None:
        if self._wait_s and queue.empty() and self._mean_gap < self._wait_s:
            # Another report is due within the wait: let it share the commit. A stop ends the wait.
            loop = asyncio.get_running_loop()
            self._waiting = loop.create_future()
            timer = loop.call_later(self._wait_s, _end_wait, self._waiting)
            try:
                await self._waiting
            finally:
                timer.cancel()
                self._waiting = None
        batch = [first]
        while len(batch) < self._max_batch and not queue.empty():
            batch.append(queue.get_nowait())
        self._batch_sizes.observe(len(batch))
        await self._write(batch)

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
