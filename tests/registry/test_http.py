"""The registry over HTTP with the real broker: upload → tasks → corrections, directory, links."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from proto.task import TaskUpserted, task_id_for
from services.common.clock import ManualClock
from services.common.natsserver import NatsServer
from services.gateway import create_gateway
from tests.helpers import bearer, eventually, office_token
from tests.registry.conftest import EXAMPLE_DIRECTORY, last_task_event
from tests.shared import shared_notice

pytestmark = pytest.mark.nats

Y2025, Y2026 = "济兖政发〔2025〕1号", "济兖政发〔2026〕1号"
API = "/api/registry"


class Env:
    def __init__(self, client: httpx.AsyncClient, root: str, nats_url: str, actor: str) -> None:
        self.client, self.root, self.nats_url = client, root, nats_url
        self.actor = actor  # how the audit trail names the office's token

    async def upload(self, name: str) -> dict[str, Any]:
        body = shared_notice(name).read_bytes()
        answer = await self.client.post("/api/ingest/notices", files={"file": (f"{name}.txt", body, "text/plain")})
        assert answer.status_code == 202, answer.text
        return answer.json()  # type: ignore[no-any-return]

    async def count(self, **params: str) -> int:
        return int((await self.client.get(f"{API}/tasks", params=params)).json()["count"])

    async def last_event(self) -> TaskUpserted:
        return await last_task_event(self.nats_url, self.root)


@pytest.fixture(scope="module")
async def env(nats_server: NatsServer, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Env]:
    root = f"r{uuid.uuid4().hex[:10]}"
    data: Path = tmp_path_factory.mktemp("registry-http")
    app = create_gateway(
        nats_url=nats_server.url, data_dir=data, subject_root=root, clock=ManualClock(datetime(2026, 3, 1, 9))
    )
    async with (
        LifespanManager(app, startup_timeout=30, shutdown_timeout=30),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://luoshi") as client,
    ):
        office = await office_token(app)
        client.headers.update(bearer(office))
        imported = await client.post(f"{API}/directory/import", content=EXAMPLE_DIRECTORY.encode())
        assert imported.status_code == 200, imported.text
        assert imported.json()["groups"] == 5
        env = Env(client, root, nats_server.url, actor=f"office:{office.split('_')[1]}")
        await env.upload("yanzhou-2026-work-report-tasks")

        async def registered() -> bool:
            return await env.count(notice=Y2026) == 39

        await eventually(registered, what="the 2026 notice in the registry")
        yield env


async def test_queries_and_units_over_http(env: Env) -> None:
    by_alias = (await env.client.get(f"{API}/tasks", params={"unit": "区科技局"})).json()
    assert by_alias["count"] > 0
    science = (await env.client.get(f"{API}/units", params={"q": "科学技术"})).json()["data"][0]
    assert "区科技局" not in [u["name"] for u in (await env.client.get(f"{API}/units?provisional=true")).json()["data"]]
    own = (await env.client.get(f"{API}/units/{science['unit_id']}/tasks")).json()
    assert own["count"] == by_alias["count"]
    hits = (await env.client.get(f"{API}/tasks", params={"q": "高新技术企业"})).json()
    assert f"{Y2026}#4" in [t["key"] for t in hits["data"]]
    assert (await env.client.get(f"{API}/units/u-nowhere/tasks")).status_code == 404
    provisional = (await env.client.get(f"{API}/units", params={"provisional": "true"})).json()
    assert provisional["count"] > 0 and all(u["provisional"] for u in provisional["data"])


async def test_a_correction_over_http(env: Env) -> None:
    task_id = task_id_for(Y2026, 4)
    url = f"{API}/tasks/{task_id}"
    got = await env.client.get(url)
    etag = got.headers["ETag"]
    body = {"host_units": ["区科技局"], "deadline_phrase": "9月底前", "due_date": "2026-09-30"}

    missing = await env.client.patch(url, json=body)
    assert missing.status_code == 428 and missing.json()["error"]["message_zh"]
    stale = await env.client.patch(url, json=body, headers={"If-Match": '"stale"'})
    assert stale.status_code == 412
    unknown = await env.client.patch(
        url, json={"host_units": ["区火星局"], "leaders": ["无名氏"]}, headers={"If-Match": etag}
    )
    assert unknown.status_code == 422
    assert "区火星局" in unknown.json()["error"]["message_zh"] and "无名氏" in unknown.json()["error"]["message_en"]
    for bad in ({"leaders": "石可清"}, {"nonsense": 1}, {"due_date": "明年"}):
        answer = await env.client.patch(url, json=bad, headers={"If-Match": etag})
        assert answer.status_code == 422, bad
    garbage = await env.client.patch(
        url, content=b"{not json", headers={"If-Match": etag, "Content-Type": "application/json"}
    )
    assert garbage.status_code == 422
    assert (await env.client.patch(f"{API}/tasks/t-missing-1", json=body, headers={"If-Match": "*"})).status_code == 404
    assert (await env.client.get(url)).headers["ETag"] == etag  # nothing half-written

    done = await env.client.patch(url, json=body, headers={"If-Match": etag})
    assert done.status_code == 200, done.text
    assert done.headers["ETag"] != etag and done.json()["corrected"] == ["deadline_phrase", "due_date", "host_units"]
    audit = (await env.client.get(f"{url}/audit")).json()
    assert audit["count"] == 1 and audit["data"][0]["actor"] == env.actor
    assert audit["data"][0]["changes"]["deadline_phrase"]["after"] == "9月底前"

    async def published() -> TaskUpserted | None:
        event = await env.last_event()
        return event if event.task_id == task_id and event.version == 2 else None

    event = await eventually(published, what="the corrected task on task.upserted")
    assert event.deadline_phrase == "9月底前" and event.host_units[0].canonical == "区科学技术局"
    assert event.host_unit_ids == [event.host_units[0].unit_id]

    # The same notice uploaded again keeps the correction and adds no version.
    await env.upload("yanzhou-2026-work-report-tasks")
    notice = (await env.client.get(f"{API}/notices/{Y2026}")).json()
    assert notice["version"] == 1 and len(notice["versions"]) == 1
    assert (await env.client.get(url)).json()["deadline_phrase"] == "9月底前"


async def test_links_and_merges_over_http(env: Env) -> None:
    await env.upload("yanzhou-2025-work-report-tasks")

    async def linked() -> list[dict[str, Any]] | None:
        body = (await env.client.get(f"{API}/links", params={"kind": "series"})).json()
        return body["data"] or None

    links = await eventually(linked, what="series links once the 2025 notice arrives")
    pair = next(link for link in links if (link["source_key"], link["target_key"]) == (f"{Y2025}#1", f"{Y2026}#1"))
    confirmed = await env.client.post(f"{API}/links/{pair['id']}/confirm")
    assert confirmed.json()["status"] == "confirmed" and confirmed.json()["decided_by"] == env.actor
    assert (await env.client.post(f"{API}/links/999999/reject")).status_code == 404
    series = (await env.client.get(f"{API}/tasks/{task_id_for(Y2026, 1)}/series")).json()
    assert [t["key"] for t in series["data"]][-2:] == [f"{Y2025}#1", f"{Y2026}#1"]

    provisional = (await env.client.get(f"{API}/units", params={"provisional": "true", "q": "区委宣传部"})).json()
    source = provisional["data"][0]
    made = await env.client.post(f"{API}/units", json={"name": "中共济宁市兖州区委宣传部", "kind": "bureau"})
    assert made.status_code == 201
    merged = await env.client.post(f"{API}/units/{source['unit_id']}/merge", json={"into": "中共济宁市兖州区委宣传部"})
    assert merged.status_code == 200, merged.text
    assert merged.json()["task_count"] == source["task_count"]
    assert "区委宣传部" in merged.json()["aliases"]
    bad = await env.client.post(f"{API}/units/{source['unit_id']}/merge", json={"into": "不存在的单位"})
    assert bad.status_code == 404
