"""The end-to-end flow on a real nats-server: upload → registry → progress → escalation."""

from __future__ import annotations

import json
from datetime import datetime
from importlib import resources
from pathlib import Path

import httpx
import nats
import pytest
from asgi_lifespan import LifespanManager

from proto.subjects import Subjects
from services.common.clock import ManualClock
from services.common.natsserver import NatsServer
from services.gateway import create_gateway
from services.progress.cli import office_token_for_up
from tests.helpers import eventually, token_known
from tests.progress.support import bearer, unit_token

EXAMPLE = resources.files("services.ingest").joinpath("examples", "example-notice.txt").read_bytes()


async def _run_flow(
    nats_server: NatsServer, subject_root: str, data_dir: Path, database_urls: dict[str, str] | None
) -> None:
    clock = ManualClock(datetime(2026, 1, 25, 9, 0))
    gateway = create_gateway(
        nats_url=nats_server.url, data_dir=data_dir, subject_root=subject_root, clock=clock, database_urls=database_urls
    )
    subjects = Subjects(subject_root)
    watcher = await nats.connect(nats_server.url)
    escalations: list[dict[str, object]] = []

    async def on_escalation(msg: nats.aio.msg.Msg) -> None:
        escalations.append({"subject": msg.subject, **json.loads(msg.data)})

    await watcher.subscribe(subjects.escalation_raised_all, cb=on_escalation)
    try:
        async with (
            LifespanManager(gateway, startup_timeout=30, shutdown_timeout=30),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway), base_url="http://luoshi") as client,
        ):
            for name in ("ingest", "registry", "progress", "notify"):
                ready = await client.get(f"/api/{name}/readyz")
                assert ready.status_code == 200, ready.text

            # The office token `luoshi up` prints, once every service has learnt it from progress.
            office, created = office_token_for_up(gateway.state.apps["progress"], data_dir)
            assert created
            await token_known(gateway, office)
            client.headers.update(bearer(office))

            upload = await client.post("/api/ingest/notices", files={"file": ("example.txt", EXAMPLE, "text/plain")})
            assert upload.status_code == 202, upload.text
            accepted = upload.json()
            assert accepted["doc_no"] == "示政发〔2026〕1号"
            assert accepted["task_count"] == 5

            async def all_tasks() -> list[dict[str, object]] | None:
                body = (await client.get("/api/registry/tasks")).json()
                return body["data"] if body["count"] == 5 else None

            tasks = await eventually(all_tasks, what="registry to hold the 5 tasks")
            first = next(t for t in tasks if t["number"] == 1)
            assert [u["name"] for u in first["host_units"]] == ["县工业和信息化局", "县发展改革局"]
            task_id = first["task_id"]

            async def known_to_progress() -> bool:
                return (await client.get(f"/api/progress/tasks/{task_id}/status")).status_code == 200

            await eventually(known_to_progress, what="progress to learn the task")

            status = (await client.get(f"/api/progress/tasks/{task_id}/status")).json()
            assert status["flag"] == "blue", status

            # With its token the office issues the unit its own.
            token = await unit_token(client, office, "县工业和信息化局", gateway=gateway)

            # In October the unit reports far behind: the task turns red and notify escalates it.
            clock.set(datetime(2026, 10, 1, 9, 0))
            report = {"percent": 10, "narrative": "一期项目主体施工中。", "period": "2026-09"}
            headers = bearer(token, idempotency_key="k-1")
            posted = await client.post(f"/api/progress/tasks/{task_id}/progress", json=report, headers=headers)
            assert posted.status_code == 201, posted.text
            answer = posted.json()
            assert answer["flag"] == "red"
            retry = await client.post(f"/api/progress/tasks/{task_id}/progress", json=report, headers=headers)
            assert retry.status_code == 201
            assert retry.json() == answer

            status = (await client.get(f"/api/progress/tasks/{task_id}/status")).json()
            assert status["flag"] == "red"
            assert len(status["reports"]) == 1

            async def raised() -> list[dict[str, object]] | None:
                rows = (await client.get("/api/notify/escalations", params={"level": "red"})).json()
                mine = [r for r in rows if r["task_id"] == task_id]
                return mine or None

            # One 督办 for the task, addressed to both host units, its leaders, copied to the office.
            (row,) = await eventually(raised, what="the task's 督办")
            units = {r["name"] for r in row["recipients"] if r["kind"] == "unit"}
            assert units == {"县工业和信息化局", "县发展改革局"}
            assert {"post", "office"} <= {r["kind"] for r in row["recipients"]}
            assert row["title"].startswith("【督办】") and "县工业和信息化局" in row["message"]
            await eventually(lambda: _async_len(escalations, 2), what="escalations on NATS")
            mine = [e for e in escalations if e["task_id"] == task_id]
            assert len(mine) == 2  # one per unit, each on its unit's subject
            assert all(e["subject"].startswith(f"{subject_root}.escalation.raised.red.") for e in mine)

            # A host unit acknowledges the 督办 addressed to it; the office may acknowledge any.
            ack = f"/api/notify/escalations/{row['escalation_id']}/ack"
            acked = await client.post(ack, json={"by": "张三", "comment": "已部署整改"}, headers=bearer(token))
            assert acked.status_code == 200, acked.text
            assert acked.json()["acknowledged_by"].startswith("unit:")
            assert acked.json()["state"] == "paused"
            assert (await client.post(ack, json={})).status_code == 200

            # The same bytes again: the same notice, nothing published twice.
            again = await client.post("/api/ingest/notices", files={"file": ("example.txt", EXAMPLE, "text/plain")})
            assert again.status_code == 202
            assert again.json()["duplicate"] is True
            assert again.json()["notice_id"] == accepted["notice_id"]
    finally:
        await watcher.close()


async def _async_len(items: list[object], n: int) -> bool:
    return len(items) >= n


@pytest.mark.nats
async def test_flow_on_sqlite(nats_server: NatsServer, subject_root: str, tmp_path: Path) -> None:
    await _run_flow(nats_server, subject_root, tmp_path, None)


@pytest.mark.nats
@pytest.mark.postgres
async def test_flow_on_postgres(
    nats_server: NatsServer, subject_root: str, tmp_path: Path, pg_databases: dict[str, str]
) -> None:
    await _run_flow(nats_server, subject_root, tmp_path, pg_databases)
