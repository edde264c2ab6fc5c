"""A real `luoshi serve progress`: JSON lines naming events, /metrics counting them, a NATS restart and Ctrl-C quiet."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path

import httpx
import nats
import pytest
from prometheus_client.parser import text_string_to_metric_families

from proto.subjects import Subjects, unit_token
from proto.task import TaskUpserted, UnitRef
from services.common.natsserver import NatsServer, free_port
from tests.helpers import eventually, wait_ready

pytestmark = pytest.mark.nats

BIN = Path(sys.executable).parent
HOST = "县工业和信息化局"


def _task(correlation_id: str) -> TaskUpserted:
    return TaskUpserted(
        source="test",
        correlation_id=correlation_id,
        task_id="tobs-1",
        key="测试〔2026〕9号#1",
        notice_id="nobs",
        doc_no="测试〔2026〕9号",
        number=1,
        chapter="一",
        text="任务一",
        leaders=["王明"],
        host_units=[UnitRef(unit_id=unit_token(HOST), name=HOST)],
        issued_date=date(2026, 1, 1),
        due_date=date(2026, 12, 31),
    )


def _lines(log: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]


def _counter(text: str, name: str, **labels: str) -> float:
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name and labels.items() <= s.labels.items()
    )


async def test_serve_logs_json_lines_and_counts_what_it_does(subject_root: str, tmp_path: Path) -> None:
    nats_server = NatsServer(free_port(), tmp_path / "nats")  # its own: the test restarts it
    nats_server.start()
    env = {
        **os.environ,
        "LUOSHI_PROGRESS_NATS_URL": nats_server.url,
        "LUOSHI_PROGRESS_DATA_DIR": str(tmp_path),
        "LUOSHI_PROGRESS_SUBJECT_ROOT": subject_root,
        "LUOSHI_PROGRESS_METRICS_SAMPLE_S": "0.2",
        "LUOSHI_LOG_LEVEL": "INFO",
    }
    issued = subprocess.run(
        [str(BIN / "luoshi"), "token", "issue", "--role", "office", "--data", str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert issued.returncode == 0, issued.stderr
    office = {"Authorization": f"Bearer {issued.stdout.strip()}"}
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(BIN / "luoshi"), "serve", "progress", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=out,  # not a terminal: JSON lines
        )
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_ready(url, died=lambda: None if proc.poll() is None else log.read_text())
        event = _task("corr-obs-1")
        conn = await nats.connect(nats_server.url)
        try:
            await conn.jetstream().publish(
                Subjects(subject_root).task_upserted,
                event.model_dump_json().encode(),
                headers={"Nats-Msg-Id": event.event_id},
            )
        finally:
            await conn.close()
        async with httpx.AsyncClient(base_url=url, headers=office) as client:

            async def scraped() -> str | None:
                text = (await client.get("/metrics")).text
                consumed = _counter(text, "luoshi_events_consumed_total", consumer="progress-task-upserted")
                published = _counter(text, "luoshi_events_published_total")
                return text if consumed and published else None

            text = await eventually(scraped, what="the event consumed and the token published")
            assert _counter(text, "luoshi_events_consumed_total", outcome="handled") >= 1
            # The office token issued from the command line went out as token.changed at start.
            assert _counter(text, "luoshi_events_published_total", subject=f"{subject_root}.token.changed.{{token_id}}")
            assert _counter(text, "luoshi_http_requests_total", route="/readyz", status="200") >= 1
            assert "luoshi_consumer_pending_events" in text and "luoshi_report_batch_size" in text
            answer = await client.get("/healthz", headers={"X-Request-Id": "obs-req-1"})
            assert answer.headers["x-request-id"] == "obs-req-1"
            nats_server.restart()
            await wait_ready(url)
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        code = proc.wait(timeout=30)
        nats_server.stop()
    lines = _lines(log)  # every line is JSON, or this fails
    assert code == 0
    assert not any("Traceback" in json.dumps(line) for line in lines), log.read_text()
    assert all({"ts", "level", "logger", "message"} <= line.keys() for line in lines)
    messages = {(line["logger"], line["message"]) for line in lines}
    assert ("services.common.runtime", "progress started") in messages  # INFO lines are shown
    assert ("uvicorn.error", "Application startup complete.") in messages
    about_event = [line for line in lines if line.get("event_id") == event.event_id]
    assert about_event, log.read_text()
    assert all(line["correlation_id"] == "corr-obs-1" for line in about_event)
    assert any(line["logger"].startswith("faststream") for line in about_event)
    assert any(str(line["message"]).startswith("Connection broken") for line in lines)  # said, without a traceback
