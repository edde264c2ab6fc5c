"""Held versions over HTTP with the real broker: a one-task upload waits, the office decides."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from asgi_lifespan import LifespanManager

from proto.task import TaskUpserted, task_id_for
from services.common.clock import ManualClock
from services.common.natsserver import NatsServer
from services.gateway import create_gateway
from tests.helpers import bearer, eventually, office_token
from tests.registry.conftest import last_task_event
from tests.shared import shared_notice

pytestmark = pytest.mark.nats

DOC = "济兖政发〔2026〕1号"
API = "/api/registry"
FULL = shared_notice("yanzhou-2026-work-report-tasks").read_text(encoding="utf-8")  # every test needs it
ONE_TASK = FULL[: FULL.index("\n2.")]  # the header and task 1, under the same 文号


class Env:
    def __init__(self, client: httpx.AsyncClient, root: str, nats_url: str, actor: str) -> None:
        self.client, self.root, self.nats_url = client, root, nats_url
        self.actor = actor  # how the audit trail names the office's token

    async def upload(self, text: str, name: str) -> str:
        files = {"file": (name, text.encode("utf-8"), "text/plain")}
        answer = await self.client.post("/api/ingest/notices", files=files)
        assert answer.status_code == 202, answer.text
        return str(answer.json()["notice_id"])

    async def count(self) -> int:
        return int((await self.client.get(f"{API}/tasks", params={"notice": DOC})).json()["count"])

    async def notice(self) -> dict[str, Any]:
        answer = await self.client.get(f"{API}/notices/{DOC}")
        assert answer.status_code == 200, answer.text
        return answer.json()  # type: ignore[no-any-return]

    async def held(self, version: int, status: str = "pending") -> dict[str, Any]:
        async def arrived() -> dict[str, Any] | None:
            found = [h for h in (await self.notice())["held_versions"] if h["version"] == version]
            return found[0] if found and found[0]["status"] == status else None

        return await eventually(arrived, what=f"version {version} {status}")

    async def last_event(self) -> TaskUpserted:
        return await last_task_event(self.nats_url, self.root)


@pytest.fixture(scope="module")
async def env(nats_server: NatsServer, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Env]:
    root = f"h{uuid.uuid4().hex[:10]}"
    app = create_gateway(
        nats_url=nats_server.url,
        data_dir=tmp_path_factory.mktemp("registry-held"),
        subject_root=root,
        clock=ManualClock(datetime(2026, 3, 1, 9)),
    )
    async with (
        LifespanManager(app, startup_timeout=30, shutdown_timeout=30),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://luoshi") as client,
    ):
        office = await office_token(app)
        client.headers.update(bearer(office))
        env = Env(client, root, nats_server.url, actor=f"office:{office.split('_')[1]}")
        await env.upload(FULL, "full.txt")

        async def registered() -> bool:
            return await env.count() == 39

        await eventually(registered, what="the 2026 notice in the registry")
        yield env


def _error(answer: httpx.Response, status: int, code: str) -> None:
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["code"] == code and error["message_zh"] and error["message_en"]


async def test_a_one_task_upload_waits_until_the_office_confirms(env: Env) -> None:
    upload = await env.upload(ONE_TASK, "one-task.txt")
    held = await env.held(2)
    assert held["notice_id"] == upload and held["based_on"] == 1 and held["task_count"] == 1
    assert held["diff"]["removed"] == list(range(2, 40))
    assert await env.count() == 39 and (await env.notice())["version"] == 1
    assert (await env.client.get(f"{API}/notices/{upload}")).json()["doc_no"] == DOC

    versions = f"{API}/notices/{quote(DOC)}/versions"
    _error(await env.client.post(f"{versions}/9/confirm"), 404, "version_not_found")
    _error(await env.client.post(f"{API}/notices/nowhere/versions/2/discard"), 404, "notice_not_found")
    _error(await env.client.post(f"{versions}/1/confirm"), 409, "version_not_pending")

    discarded = await env.client.post(f"{versions}/2/discard")
    assert discarded.status_code == 200, discarded.text
    assert discarded.json()["held_versions"][0] | {"decided_at": None} == held | {
        "status": "discarded",
        "decided_by": env.actor,
        "decided_at": None,
    }
    _error(await env.client.post(f"{versions}/2/confirm"), 409, "version_not_pending")
    assert await env.count() == 39

    # The same text again (other bytes, so a new upload) is held anew; confirmed, it applies.
    await env.upload(ONE_TASK + "\n\n", "one-task-again.txt")
    await env.held(3)
    confirmed = await env.client.post(f"{versions}/3/confirm")
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["version"] == 3 and [v["version"] for v in confirmed.json()["versions"]] == [1, 3]
    assert await env.count() == 1
    _error(await env.client.post(f"{versions}/3/discard"), 409, "version_not_pending")

    async def removed() -> TaskUpserted | None:
        event = await env.last_event()
        return event if event.task_id == task_id_for(DOC, 39) and event.removed else None

    await eventually(removed, what="task 39 published with removed=True")
    audit = (await env.client.get(f"{API}/tasks/{task_id_for(DOC, 39)}/audit")).json()["data"]
    assert [(a["action"], a["actor"]) for a in audit] == [("discard_version", env.actor), ("removed", env.actor)]
