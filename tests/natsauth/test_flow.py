"""The four services, each as its own NATS user, on a server that enforces the permissions."""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime
from importlib import resources
from pathlib import Path

import httpx
import nats
import pytest
from asgi_lifespan import LifespanManager
from nats.aio.msg import Msg
from nats.errors import Error as NatsError

from proto.task import TaskUpserted, UnitRef
from services.common.clock import ManualClock
from services.common.natsauth import SERVICES, inbox_prefix
from services.gateway import create_gateway
from services.progress.cli import office_token_for_up
from tests.helpers import eventually, token_known
from tests.natsauth.conftest import AuthServer
from tests.progress.support import bearer, unit_token

pytestmark = pytest.mark.nats

EXAMPLE = resources.files("services.ingest").joinpath("examples", "example-notice.txt").read_bytes()
UNIT = "县工业和信息化局"


def _forged_task() -> TaskUpserted:
    """A task the registry never published, hosted by a real unit of the example notice."""
    unit = UnitRef(unit_id="uforged0001", name=UNIT)
    return TaskUpserted(
        source="registry",
        task_id="tforged-1",
        key="伪〔2026〕1号#1",
        notice_id="forged",
        doc_no="伪〔2026〕1号",
        number=1,
        text="伪造的任务",
        host_units=[unit],
        host_unit_ids=[unit.unit_id],
        issued_date=date(2026, 1, 1),
        due_date=date(2026, 2, 1),
    )


async def _forge(auth: AuthServer, forged: TaskUpserted) -> None:
    """Publish the forged task as every user but the registry, and anonymously: none is acked."""
    payload = forged.model_dump_json().encode()
    with pytest.raises(NatsError, match="Authorization Violation"):
        await nats.connect(auth.url, allow_reconnect=False, max_reconnect_attempts=0)
    for user in ("ingest", "progress", "notify", "supervisor"):
        creds = auth.credentials[user]
        nc = await nats.connect(
            auth.url, user=creds.user, password=creds.password, inbox_prefix=inbox_prefix(user), allow_reconnect=False
        )
        try:
            with pytest.raises(asyncio.TimeoutError):
                await nc.jetstream(timeout=1).publish(
                    auth.subjects.task_upserted, payload, headers={"Nats-Msg-Id": f"{forged.event_id}-{user}"}
                )
        finally:
            await nc.close()


async def test_services_work_as_their_own_users_and_a_forged_task_never_lands(
    auth_nats: AuthServer, tmp_path: Path
) -> None:
    clock = ManualClock(datetime(2026, 1, 25, 9, 0))
    data = tmp_path / "data"
    gateway = create_gateway(
        nats_url=auth_nats.url,
        data_dir=data,
        subject_root=auth_nats.subjects.root,
        clock=clock,
        nats_credentials={name: auth_nats.credentials[name] for name in SERVICES},
    )
    escalations: list[Msg] = []

    async def on_escalation(msg: Msg) -> None:
        escalations.append(msg)

    sup = auth_nats.credentials["supervisor"]
    supervisor = await nats.connect(auth_nats.url, user=sup.user, password=sup.password)
    await supervisor.subscribe(auth_nats.subjects.escalation_raised_all, cb=on_escalation)
    forged = _forged_task()
    try:
        async with (
            LifespanManager(gateway, startup_timeout=30, shutdown_timeout=30),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway), base_url="http://luoshi") as client,
        ):
            for name in SERVICES:
                ready = await client.get(f"/api/{name}/readyz")
                assert ready.status_code == 200, ready.text
            office, _created = office_token_for_up(gateway.state.apps["progress"], data)
            await token_known(gateway, office)
            client.headers.update(bearer(office))
            await _forge(auth_nats, forged)

            upload = await client.post("/api/ingest/notices", files={"file": ("example.txt", EXAMPLE, "text/plain")})
            assert upload.status_code == 202, upload.text

            async def first_task() -> str | None:
                body = (await client.get("/api/registry/tasks")).json()
                return next((t["task_id"] for t in body["data"] if t["number"] == 1), None)

            task_id = await eventually(first_task, what="the registry to hold the uploaded tasks")

            async def known_to_progress() -> bool:
                return (await client.get(f"/api/progress/tasks/{task_id}/status")).status_code == 200

            await eventually(known_to_progress, what="progress to learn the task from the registry")
            # The forged task went to the stream before the upload, so it would be here by now.
            assert (await client.get(f"/api/progress/tasks/{forged.task_id}/status")).status_code == 404

            token = await unit_token(client, office, UNIT, gateway=gateway)
            clock.set(datetime(2026, 10, 1, 9, 0))
            report = {"percent": 10, "narrative": "一期项目主体施工中。", "period": "2026-09"}
            posted = await client.post(
                f"/api/progress/tasks/{task_id}/progress", json=report, headers=bearer(token, idempotency_key="k-1")
            )
            assert posted.status_code == 201, posted.text
            assert posted.json()["flag"] == "red"

            async def escalated() -> bool:
                return any(json.loads(m.data)["task_id"] == task_id for m in escalations)

            await eventually(escalated, what="notify's escalation to reach the supervisor")
    finally:
        await supervisor.close()
    # The services' own work (streams, consumers, publishing, acks) needed nothing they lack.
    violations = [line for line in (tmp_path / "nats.log").read_text().splitlines() if "Violation" in line]
    assert all("task.upserted" in line or "user:supervisor" in line for line in violations), violations
