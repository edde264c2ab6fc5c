"""Durability: 5,000 reports while the progress process is SIGKILLed and the nats-server restarts.

The progress service runs as a real `luoshi serve progress` process on its own nats-server.
Clients retry every report with its Idempotency-Key until they get a definitive answer. At the
end every acknowledged report is in the status exactly once (and on the stream exactly once),
and no refused report is anywhere.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import httpx
import nats
import pytest

from proto.streams import stream_for
from proto.subjects import Subjects, unit_token
from proto.task import TaskUpserted, UnitRef
from services.common.natsserver import NatsServer, free_port
from tests.helpers import wait_ready

pytestmark = [pytest.mark.nats, pytest.mark.durability]

BIN = Path(sys.executable).parent
REPORTS = 5000
TASKS = 40
UNITS = [f"第{i}局" for i in range(4)]
ROOT = "dur"


class ProgressProcess:
    def __init__(self, data: Path, nats_url: str) -> None:
        self.port = free_port()
        self.data = data
        self.env = {
            **os.environ,
            "LUOSHI_PROGRESS_NATS_URL": nats_url,
            "LUOSHI_PROGRESS_DATA_DIR": str(data),
            "LUOSHI_PROGRESS_SUBJECT_ROOT": ROOT,
            "LUOSHI_PROGRESS_OUTBOX_INTERVAL_S": "0.2",
            # The test reads the roll-ups without a token, as an operator may allow.
            "LUOSHI_PROGRESS_PUBLIC_READS": "true",
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.starts += 1
        log = (self.data / f"progress-{self.starts}.log").open("wb")
        self.proc = subprocess.Popen(
            [str(BIN / "luoshi"), "serve", "progress", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    async def wait_ready(self, timeout: float = 30) -> None:
        await wait_ready(self.url, timeout=timeout, died=self._died)

    def _died(self) -> str | None:
        if self.proc is None or self.proc.poll() is not None:
            return f"progress exited:\n{self.log_tail()}"
        return None

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def log_tail(self) -> str:
        path = self.data / f"progress-{self.starts}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


def _task_event(n: int) -> TaskUpserted:
    host = UNITS[n % len(UNITS)]
    return TaskUpserted(
        source="test",
        task_id=f"tdur-{n}",
        key=f"测试〔2026〕1号#{n}",
        notice_id="ndur",
        doc_no="测试〔2026〕1号",
        number=n,
        chapter="一",
        text=f"任务{n}",
        leaders=["王明"],
        host_units=[UnitRef(unit_id=unit_token(host), name=host)],
        issued_date=date(2026, 1, 1),
        due_date=date(2026, 12, 31),
    )


def _issue(unit: str | None, data: Path, env: dict[str, str]) -> str:
    """A unit's token, or the office's for `None`."""
    who = ["--unit", unit] if unit is not None else ["--role", "office"]
    out = subprocess.run(
        [str(BIN / "luoshi"), "token", "issue", *who, "--data", str(data)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


async def test_acknowledged_reports_survive_kills_and_restarts(tmp_path: Path) -> None:
    server = NatsServer(free_port(), tmp_path / "nats", log_file=tmp_path / "nats.log")
    server.start()
    data = tmp_path / "progress"
    data.mkdir()
    service = ProgressProcess(data, server.url)
    try:
        service.start()
        await service.wait_ready()
        subjects = Subjects(ROOT)
        conn = await nats.connect(server.url)
        js = conn.jetstream()
        for n in range(TASKS):
            event = _task_event(n)
            await js.publish(
                subjects.task_upserted, event.model_dump_json().encode(), headers={"Nats-Msg-Id": event.event_id}
            )
        await conn.close()
        async with httpx.AsyncClient(base_url=service.url, timeout=5) as client:
            deadline = time.monotonic() + 30
            while (await client.get("/status", params={"by": "notice"})).json()["count"] == 0 or (
                (await client.get("/status", params={"by": "notice"})).json()["data"][0]["total"] < TASKS
            ):
                assert time.monotonic() < deadline, "tasks never reached progress"
                await asyncio.sleep(0.1)
        tokens = {u: _issue(u, data, service.env) for u in UNITS}

        rng = random.Random(5)
        plan = []
        for i in range(REPORTS):
            n = rng.randrange(TASKS)
            owner = UNITS[n % len(UNITS)]
            kind = rng.random()
            if kind < 0.03:
                plan.append((i, n, UNITS[(n + 1) % len(UNITS)], {"percent": 10}, 403))  # not its task
            elif kind < 0.06:
                plan.append((i, n, owner, {"percent": 150}, 422))
            else:
                plan.append((i, n, owner, {"percent": rng.randrange(101), "narrative": f"第{i}次填报"}, 201))
        queue: asyncio.Queue[tuple] = asyncio.Queue()  # type: ignore[type-arg]
        for item in plan:
            queue.put_nowait(item)
        acked: dict[str, tuple[int, str]] = {}  # key -> (task number, report id)
        refused: dict[str, int] = {}
        retries = 0

        async def worker(client: httpx.AsyncClient) -> None:
            nonlocal retries
            while not queue.empty():
                i, n, unit, body, _expect = queue.get_nowait()
                key = f"dur-{i}"
                headers = {"Authorization": f"Bearer {tokens[unit]}", "Idempotency-Key": key}
                while True:
                    try:
                        answer = await client.post(f"/tasks/tdur-{n}/progress", json=body, headers=headers)
                    except httpx.HTTPError:
                        answer = None
                    if answer is not None and answer.status_code < 500:
                        break
                    retries += 1
                    await asyncio.sleep(0.05)
                if answer.status_code == 201:
                    acked[key] = (n, answer.json()["report_id"])
                else:
                    refused[key] = answer.status_code

        async def chaos() -> None:
            for at, action in ((1000, "kill"), (2500, "nats"), (3800, "kill")):
                while len(acked) + len(refused) < at:
                    await asyncio.sleep(0.01)
                if action == "kill":
                    service.kill()
                    service.start()
                    await service.wait_ready()
                else:
                    await asyncio.to_thread(server.restart)

        limits = httpx.Limits(max_connections=16)
        async with httpx.AsyncClient(base_url=service.url, timeout=10, limits=limits) as client:
            started = time.monotonic()
            await asyncio.gather(chaos(), *(worker(client) for _ in range(16)))
            elapsed = time.monotonic() - started
        print(f"{len(acked)} acknowledged, {len(refused)} refused, {retries} retries in {elapsed:.1f}s")

        expected_refusals = {f"dur-{i}": code for i, _n, _u, _b, code in plan if code != 201}
        assert refused == expected_refusals
        assert len(acked) == REPORTS - len(expected_refusals)
        assert service.starts == 3

        # Every acknowledged report is in the status history exactly once.
        by_task: dict[int, list[str]] = {}
        for n, report_id in acked.values():
            by_task.setdefault(n, []).append(report_id)
        # A unit reads only its own tasks' status: the office reads them all.
        reader = {"Authorization": f"Bearer {_issue(None, data, service.env)}"}
        async with httpx.AsyncClient(base_url=service.url, timeout=10, headers=reader) as client:
            for n in range(TASKS):
                status = (await client.get(f"/tasks/tdur-{n}/status", params={"limit": 1000})).json()
                history = [r["report_id"] for r in status["reports"]]
                assert sorted(history) == sorted(by_task.get(n, [])), f"task {n}"
                assert status["report_count"] == len(by_task.get(n, []))
        with sqlite3.connect(f"file:{data / 'progress.db'}?mode=ro", uri=True) as db:
            keys = [k for (k,) in db.execute("SELECT idempotency_key FROM progress_report")]
        assert sorted(keys) == sorted(acked) and not set(keys) & set(refused)

        # …and on the stream exactly once, once the outbox has drained after the restarts.
        conn = await nats.connect(server.url)
        try:
            js = conn.jetstream()
            stream = stream_for(subjects, subjects.progress_reported).name
            deadline = time.monotonic() + 30
            while True:
                info = await js.stream_info(stream, subjects_filter=subjects.progress_reported)
                if (info.state.subjects or {}).get(subjects.progress_reported, 0) >= len(acked):
                    break
                assert time.monotonic() < deadline, f"outbox never drained: {info.state.subjects}"
                await asyncio.sleep(0.2)
            sub = await js.subscribe(subjects.progress_reported, ordered_consumer=True)
            seen: list[str] = []
            while len(seen) < (info.state.subjects or {})[subjects.progress_reported]:
                msg = await sub.next_msg(timeout=5)
                seen.append(json.loads(msg.data)["report_id"])
            assert sorted(seen) == sorted(r for _n, r in acked.values())
        finally:
            await conn.close()
    finally:
        service.stop()
        server.stop()
