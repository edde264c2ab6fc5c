"""Delivery fan-out: 10,000 escalation steps to 100 webhook subscribers on loopback.

Each of 100 units has a webhook subscription; 10,000 steps (100 per unit) are planned in
transactions of 500, as the ladder would, then the delivery worker sends everything to a
receiver in another process. Beside it, in the same run, the baseline: raw httpx POSTs of the
same body to the same receiver, 32 at a time. The worker sends everything due for one
subscriber in one pass as one message (a digest), so deliveries per second can pass the raw POST
rate; the messages per second are shown too. Target: deliveries/s ≥ 0.5 × raw POSTs/s; the
process's peak RSS (the worker, its SQLite and the bench itself) ≤ 150 MB.
"""

from __future__ import annotations

import asyncio
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table
from sqlmodel import Session, func, select

from services.common.clock import ManualClock
from services.common.db import create_tables, make_engine
from services.common.workdays import WorkCalendar
from services.notify.delivery_models import DELIVERY_TABLES, SENT, Delivery, DeliveryAttempt, Subscription
from services.notify.delivery_settings import DeliverySettings
from services.notify.worker import DeliveryWorker
from tests.delivery.steps import MONDAY_10, step

SUBSCRIBERS = 100
STEPS = 10_000
PLAN_BATCH = 500
RAW_POSTS = 2_000
AT_ONCE = 32
TARGET_RATIO = 0.5
TARGET_RSS_MB = 150.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _wait_up(url: str) -> None:
    async with httpx.AsyncClient(trust_env=False) as client:
        for _ in range(200):
            try:
                await client.post(url, content=b"{}")
                return
            except httpx.HTTPError:
                await asyncio.sleep(0.05)
    raise RuntimeError("the bench receiver did not start")


async def _raw(url: str, body: bytes, posts: int) -> float:
    gate = asyncio.Semaphore(AT_ONCE)
    limits = httpx.Limits(max_connections=AT_ONCE * 2, max_keepalive_connections=AT_ONCE * 2)
    async with httpx.AsyncClient(trust_env=False, limits=limits) as client:

        async def one() -> None:
            async with gate:
                (await client.post(url, content=body, headers={"Content-Type": "application/json"})).raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(posts)))
        return posts / (time.perf_counter() - started)


def _plan(worker: DeliveryWorker, steps: int) -> float:
    started = time.perf_counter()
    for first in range(0, steps, PLAN_BATCH):
        with Session(worker.engine) as session:
            for n in range(first, min(steps, first + PLAN_BATCH)):
                worker.planner(session, step(n, units=(f"u{n % SUBSCRIBERS}",)))
            session.commit()
    return steps / (time.perf_counter() - started)


async def _send(worker: DeliveryWorker) -> tuple[float, int]:
    started = time.perf_counter()
    while await worker.run_once():
        pass
    elapsed = time.perf_counter() - started
    with Session(worker.engine) as session:
        sent = session.exec(select(func.count()).select_from(Delivery).where(Delivery.state == SENT)).one()
        tries = session.exec(select(func.count()).select_from(DeliveryAttempt)).one()
    if sent != tries:
        raise RuntimeError(f"{sent} sent in {tries} tries")
    return sent / elapsed, worker.messages_sent


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _run(folder: Path, quick: bool) -> list[tuple[str, str, str]]:
    start_mb = _rss_mb()
    port = _free_port()
    url = f"http://127.0.0.1:{port}/hook"
    receiver = subprocess.Popen([sys.executable, "-m", "bench.delivery_receiver", str(port)])
    try:
        await _wait_up(url)
        engine = make_engine(f"sqlite:///{folder / 'notify.db'}")
        create_tables(engine, DELIVERY_TABLES)
        with Session(engine) as session:
            for i in range(SUBSCRIBERS):
                session.add(
                    Subscription(
                        subscription_id=f"s{i:03d}",
                        name=f"单位{i}",
                        channel="webhook",
                        target=url,
                        owner_kind="unit",
                        owner_id=f"u{i}",
                    )
                )
            session.commit()
        settings = DeliverySettings(batch_max=200)
        worker = DeliveryWorker(engine, settings, ManualClock(MONDAY_10), WorkCalendar())
        steps = STEPS // 10 if quick else STEPS
        planned = _plan(worker, steps)
        body = b'{"items": [' + b"x" * 400 + b"]}"
        raw = await _raw(url, body, RAW_POSTS // (10 if quick else 1))
        delivered, messages = await _send(worker)
        await worker.close()
        engine.dispose()
    finally:
        receiver.terminate()
        receiver.wait()
    rss_mb = _rss_mb()
    ratio = delivered / raw if raw else 0.0
    return [
        ("steps planned /s (500 per transaction)", f"{planned:,.0f}", ""),
        ("raw httpx POSTs /s (baseline, 32 at a time)", f"{raw:,.0f}", ""),
        ("deliveries /s by the worker", f"{delivered:,.0f}", f"{ratio:.1f} × raw (target ≥ {TARGET_RATIO})"),
        ("messages sent (a digest per subscriber and pass)", f"{messages:,}", f"{steps:,} deliveries"),
        (
            "peak RSS of the process, MB",
            f"{rss_mb:,.0f}",
            f"target ≤ {TARGET_RSS_MB:.0f}; {start_mb:,.0f} after imports",
        ),
    ]


def main(quick: bool = False) -> None:
    console = Console()
    with tempfile.TemporaryDirectory(prefix="luoshi-bench-delivery-") as folder:
        rows = asyncio.run(_run(Path(folder), quick))
    table = Table(title=f"Delivery: {STEPS:,} steps to {SUBSCRIBERS} webhook subscribers on loopback")
    for column in ("measure", "value", "against"):
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    console.print(table)
