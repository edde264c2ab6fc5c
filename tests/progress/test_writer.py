"""The report writer's batching: who shares a commit, and what a stop does to the batch in hand.

The recording itself is stubbed here (the API and durability tests run it for real); these tests
watch only which reports the writer hands over together.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from services.progress.reports import Submission
from services.progress.schemas import ReportAccepted, ReportIn
from services.progress.status import Rules
from services.progress.writer import ReportWriter, Waiting
from tests.progress.conftest import unit

WAIT_S = 0.05


class Recording(ReportWriter):
    """A writer whose batches are answered without a database, and remembered."""

    def __init__(self, wait_s: float) -> None:
        super().__init__(Any, rules=Rules(), gate=Any, wait_s=wait_s)  # type: ignore[arg-type]
        self.batches: list[list[str]] = []

    async def _write(self, batch: list[Waiting]) -> None:
        self.batches.append([item.task_id for item, _future in batch])
        for item, future in batch:
            future.set_result((_accepted(item.task_id), True))


def _accepted(task_id: str) -> ReportAccepted:
    return ReportAccepted.model_construct(report_id=f"r-{task_id}", task_id=task_id)


def submission(task_id: str) -> Submission:
    return Submission(unit("甲局"), task_id, ReportIn(percent=10), None, datetime(2026, 3, 1, 9))


async def _paced(writer: ReportWriter, names: list[str], every_s: float) -> list[Any]:
    pending = []
    for name in names:
        pending.append(asyncio.ensure_future(writer.submit(submission(name))))
        await asyncio.sleep(every_s)
    return list(await asyncio.gather(*pending))


async def test_reports_arriving_faster_than_the_wait_share_a_commit() -> None:
    writer = Recording(WAIT_S)
    runner = asyncio.ensure_future(writer.run())
    await asyncio.sleep(0)
    try:
        # The writer learns the pace from the reports themselves: a steady stream, then a pair.
        await _paced(writer, [f"warm-{i}" for i in range(100)], 0.001)
        writer.batches.clear()
        answers = await _paced(writer, ["a", "b"], 0.005)
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
    assert [a.report_id for a, _created in answers] == ["r-a", "r-b"]
    assert writer.batches == [["a", "b"]]


async def test_a_report_after_a_lull_is_written_at_once() -> None:
    writer = Recording(60.0)  # a wait nobody could sit out in this test
    writer._mean_gap = 600.0  # reports have been minutes apart
    runner = asyncio.ensure_future(writer.run())
    await asyncio.sleep(0)
    try:
        answer, created = await asyncio.wait_for(writer.submit(submission("a")), timeout=10)
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
    assert (answer.report_id, created) == ("r-a", True)
    assert writer.batches == [["a"]]


async def test_without_a_wait_each_arrival_is_written_as_it_comes() -> None:
    writer = Recording(0.0)
    runner = asyncio.ensure_future(writer.run())
    await asyncio.sleep(0)
    try:
        await _paced(writer, ["a", "b", "c"], 0.005)
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
    assert writer.batches == [["a"], ["b"], ["c"]]


async def test_a_stop_during_the_wait_still_writes_and_answers_the_batch() -> None:
    writer = Recording(60.0)
    writer._mean_gap = 0.0  # as under load: the next report is due at once, so the writer waits
    runner = asyncio.ensure_future(writer.run())
    await asyncio.sleep(0)
    report = asyncio.ensure_future(writer.submit(submission("a")))
    await asyncio.sleep(0.05)
    assert not report.done()  # held for the wait
    runner.cancel()
    await asyncio.gather(runner, return_exceptions=True)
    answer, _created = await asyncio.wait_for(report, timeout=10)
    assert answer.report_id == "r-a"
    assert writer.batches == [["a"]]
