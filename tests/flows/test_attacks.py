"""The attacks of the security issue, each replayed: refused with 401/403, nothing written, the board unchanged."""

from __future__ import annotations

from importlib import resources
from urllib.parse import quote

import pytest

from tests.flows.conftest import System
from tests.helpers import bearer, eventually, token_known

pytestmark = pytest.mark.nats

EXAMPLE = resources.files("services.ingest").joinpath("examples", "example-notice.txt").read_bytes()
ONE_TASK = "示政发〔2026〕1号\n\n一、工作任务\n\n1. 仅此一项任务。（牵头单位：县工业和信息化局）\n".encode()
HOST, OTHER = "县工业和信息化局", "县人力资源和社会保障局"


async def _tasks(system: System) -> list[dict]:  # type: ignore[type-arg]
    async def five() -> list[dict] | None:  # type: ignore[type-arg]
        body = (await system.client.get("/api/registry/tasks")).json()
        return body["data"] if body["count"] == 5 else None

    return await eventually(five, what="the example's 5 tasks")


async def _unit(system: System, name: str) -> str:
    async def issued() -> str | None:
        answer = await system.client.post("/api/progress/tokens", json={"role": "unit", "unit": name})
        return str(answer.json()["token"]) if answer.status_code == 201 else None

    token = await eventually(issued, what=f"a token for {name}")
    await token_known(system.app, token)
    return token


@pytest.fixture(scope="module")
async def example(system: System) -> list[dict]:  # type: ignore[type-arg]
    upload = await system.client.post("/api/ingest/notices", files={"file": ("example.txt", EXAMPLE, "text/plain")})
    assert upload.status_code == 202, upload.text
    return await _tasks(system)


async def test_a_unit_cannot_take_over_another_units_task(system: System, example: list[dict]) -> None:  # type: ignore[type-arg]
    other = await _unit(system, OTHER)
    task = next(t for t in example if OTHER not in [u["name"] for u in t["host_units"]])
    url = f"/api/registry/tasks/{task['task_id']}"
    before = await system.client.get(url)
    patch = {"host_units": [OTHER], "due_date": "2030-12-31"}
    headers = {"If-Match": "*"}
    anonymous = await system.anonymous.patch(url, json=patch, headers=headers)
    assert anonymous.status_code == 401, anonymous.text
    as_unit = await system.anonymous.patch(url, json=patch, headers={**headers, **bearer(other)})
    assert (as_unit.status_code, as_unit.json()["error"]["code"]) == (403, "role_forbidden")
    after = await system.client.get(url)
    assert after.headers["ETag"] == before.headers["ETag"] and after.json() == before.json()
    report = await system.anonymous.post(
        f"/api/progress/tasks/{task['task_id']}/progress", json={"percent": 100}, headers=bearer(other)
    )
    assert report.status_code == 403, report.text
    # Nor read what that task's units wrote; its own tasks it reads.
    status = await system.anonymous.get(f"/api/progress/tasks/{task['task_id']}/status", headers=bearer(other))
    assert (status.status_code, status.json()["error"]["code"]) == (403, "unit_not_responsible")
    own = next(t for t in example if OTHER in [u["name"] for u in t["host_units"] + t["co_units"]])
    mine = await system.anonymous.get(f"/api/progress/tasks/{own['task_id']}/status", headers=bearer(other))
    assert mine.status_code == 200, mine.text


async def test_an_anonymous_upload_cannot_replace_a_notice(system: System, example: list[dict]) -> None:  # type: ignore[type-arg]
    upload = await system.anonymous.post("/api/ingest/notices", files={"file": ("one.txt", ONE_TASK, "text/plain")})
    assert upload.status_code == 401, upload.text
    unit = await _unit(system, HOST)
    upload = await system.anonymous.post(
        "/api/ingest/notices", files={"file": ("one.txt", ONE_TASK, "text/plain")}, headers=bearer(unit)
    )
    assert upload.status_code == 403, upload.text
    assert len((await system.client.get("/api/ingest/notices")).json()) == 1
    assert (await system.client.get("/api/registry/tasks")).json()["count"] == 5


async def test_the_audit_trail_names_the_token_not_a_header(system: System, example: list[dict]) -> None:  # type: ignore[type-arg]
    task = example[0]
    url = f"/api/registry/tasks/{task['task_id']}"
    forged = {"If-Match": "*", "X-Luoshi-User": quote("区长")}
    answer = await system.client.patch(url, json={"text": task["text"] + "（更正）"}, headers=forged)
    assert answer.status_code == 200, answer.text
    office_id = system.office.split("_")[1]
    history = (await system.client.get(f"{url}/audit")).json()["data"]
    assert history[-1]["actor"] == f"office:{office_id}"
    trail = (await system.client.get("/api/registry/audit", params={"action": "task.correct"})).json()["data"]
    assert trail[0]["actor"] == f"office:{office_id}" and trail[0]["target"] == task["task_id"]
    assert trail[0]["request"]["text"] == task["text"] + "（更正）"
    uploads = (await system.client.get("/api/ingest/audit")).json()["data"]
    assert uploads and all(row["actor"] == f"office:{office_id}" for row in uploads)
    unit = await _unit(system, HOST)
    refused = await system.anonymous.get("/api/registry/audit", headers=bearer(unit))
    assert refused.status_code == 403


async def test_the_last_office_token_cannot_be_revoked(system: System) -> None:
    listed = (await system.client.get("/api/progress/tokens")).json()
    offices = [t for t in listed if t["role"] == "office" and t["revoked_at"] is None]
    mine = system.office.split("_")[1]
    for token in offices:
        if token["token_id"] != mine:
            assert (await system.client.delete(f"/api/progress/tokens/{token['token_id']}")).status_code == 200
    last = await system.client.delete(f"/api/progress/tokens/{mine}")
    assert (last.status_code, last.json()["error"]["code"]) == (409, "last_office_token")
    assert (await system.client.get("/api/progress/tokens")).status_code == 200
