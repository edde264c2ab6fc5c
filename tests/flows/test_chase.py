"""The chase over HTTP on real NATS: a red task's 督办, its acknowledgement and history, silences,
the rules in force, and bad input refused with nothing written."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime
from importlib import resources
from typing import Any

import pytest

from tests.delivery.receivers import Receiver
from tests.flows.conftest import System
from tests.helpers import bearer, eventually
from tests.progress.support import unit_token

EXAMPLE = resources.files("services.ingest").joinpath("examples", "example-notice.txt").read_bytes()


def _error(answer: Any, status: int, code: str) -> None:
    assert answer.status_code == status, answer.text
    body = answer.json()["error"]
    assert body["code"] == code and body["message"] and body["message_en"], body


@pytest.fixture(scope="module")
async def receiver() -> AsyncIterator[Receiver]:
    server = Receiver()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture(scope="module")
async def red(system: System, receiver: Receiver) -> dict[str, Any]:
    """The example notice's first task reported far behind in October: red, so a 督办.

    The host unit has its own webhook subscription, so the 督办 reaches a real receiver.
    """
    system.clock.set(datetime(2026, 1, 25, 9, 0))
    upload = await system.client.post("/api/ingest/notices", files={"file": ("example.txt", EXAMPLE, "text/plain")})
    assert upload.status_code == 202, upload.text

    async def first_task() -> str | None:
        body = (await system.client.get("/api/registry/tasks")).json()
        return next((t["task_id"] for t in body["data"] if t["number"] == 1), None)

    task_id = await eventually(first_task, what="the registry to hold the example's tasks")

    async def known() -> bool:
        return (await system.client.get(f"/api/progress/tasks/{task_id}/status")).status_code == 200

    await eventually(known, what="progress to learn the task")
    token = await unit_token(system.client, system.office, "县工业和信息化局", gateway=system.app)
    hook = {
        "name": "工信局督办接收",
        "channel": "webhook",
        "target": f"{receiver.url}/hook/gxj",
        "secret": receiver.secret,
    }
    made = await system.client.post("/api/notify/subscriptions", json=hook, headers=bearer(token))
    assert made.status_code == 201, made.text
    system.clock.set(datetime(2026, 10, 1, 9, 0))
    report = {"percent": 10, "narrative": "一期项目主体施工中。", "period": "2026-09"}
    posted = await system.client.post(
        f"/api/progress/tasks/{task_id}/progress", json=report, headers=bearer(token, idempotency_key="chase-1")
    )
    assert posted.status_code == 201 and posted.json()["flag"] == "red", posted.text

    async def raised() -> dict[str, Any] | None:
        rows = (await system.client.get("/api/notify/escalations", params={"task": task_id})).json()
        return next((r for r in rows if r["rule"] == "red"), None)

    row = await eventually(raised, what="the 督办")
    return {"task_id": task_id, "escalation": row, "unit": token}


async def test_the_step_reaches_the_unit_s_own_webhook(system: System, red: dict[str, Any], receiver: Receiver) -> None:
    async def arrived() -> list[Any] | None:
        return [r.json() for r in receiver.accepted if r.path == "/hook/gxj"] or None

    (body, *_) = await eventually(arrived, what="the 督办 at the unit's webhook")
    text = json.dumps(body, ensure_ascii=False)
    assert "督办" in text and red["task_id"] in text and "县工业和信息化局" in text

    async def in_history() -> list[Any] | None:
        history = (await system.client.get(f"/api/notify/tasks/{red['task_id']}/history")).json()
        return [h for h in history if h["kind"] == "delivery"] or None

    (attempt, *_) = await eventually(in_history, what="the delivery in the task's history")
    assert attempt["channel"] == "webhook" and attempt["status"] == 200


async def test_a_unit_that_is_not_a_recipient_may_not_acknowledge(system: System, red: dict[str, Any]) -> None:
    stranger = await unit_token(system.client, system.office, "县教育和体育局", gateway=system.app)
    url = f"/api/notify/escalations/{red['escalation']['escalation_id']}/ack"
    _error(await system.client.post(url, json={"comment": "收到"}, headers=bearer(stranger)), 403, "role_forbidden")
    # Nor even see it: a unit lists only what is addressed to it.
    listed = await system.client.get("/api/notify/escalations", headers=bearer(stranger))
    assert listed.status_code == 200 and listed.json() == []
    _error(await system.client.post("/api/notify/escalations/nosuch/ack", json={}), 404, "escalation_not_found")
    _error(await system.client.post(url, json={"comment": "x" * 501}), 422, "invalid_request")
    row = (await system.client.get(f"/api/notify/escalations/{red['escalation']['escalation_id']}")).json()
    assert row["acknowledged_at"] is None and row["state"] == "open"


async def test_acknowledgement_is_kept_in_the_task_history(system: System, red: dict[str, Any]) -> None:
    url = f"/api/notify/escalations/{red['escalation']['escalation_id']}/ack"
    acked = await system.client.post(url, json={"comment": "已召开专题会部署整改"}, headers=bearer(red["unit"]))
    assert acked.status_code == 200, acked.text
    body = acked.json()
    assert body["state"] == "paused" and body["ack_comment"] == "已召开专题会部署整改" and body["next_on"]
    history = (await system.client.get(f"/api/notify/tasks/{red['task_id']}/history")).json()
    assert [h["kind"] for h in history][:2] == ["raised", "ack"]
    assert history[1]["actor"].startswith("unit:")
    mine = await system.client.get(f"/api/notify/tasks/{red['task_id']}/history", headers=bearer(red["unit"]))
    assert [h["kind"] for h in mine.json()][:2] == ["raised", "ack"]
    by_unit = await system.client.get("/api/notify/history", params={"party": red["escalation"]["unit_id"]})
    assert {h["task_id"] for h in by_unit.json()} == {red["task_id"]}


async def test_silences_are_the_office_s_and_refuse_bad_dates(system: System, red: dict[str, Any]) -> None:
    good = {"scope": "unit", "target": red["escalation"]["unit_id"], "until": "2026-10-31", "reason": "机构改革"}
    _error(
        await system.client.post("/api/notify/silences", json=good, headers=bearer(red["unit"])), 403, "role_forbidden"
    )
    backwards = {**good, "starts_on": "2026-11-01"}
    _error(await system.client.post("/api/notify/silences", json=backwards), 422, "silence_ends_before_start")
    unknown = {**good, "scope": "rule", "target": "nagging"}
    _error(await system.client.post("/api/notify/silences", json=unknown), 422, "unknown_rule")
    _error(await system.client.post("/api/notify/silences", json={**good, "scope": "team"}), 422, "invalid_request")
    _error(await system.client.post("/api/notify/silences", json={**good, "reason": ""}), 422, "invalid_request")
    assert (await system.client.get("/api/notify/silences")).json() == []  # nothing written
    made = await system.client.post("/api/notify/silences", json=good)
    assert made.status_code == 201, made.text
    assert made.json()["starts_on"] == "2026-10-01"  # today, China time
    listed = (await system.client.get("/api/notify/silences", params={"active_on": "2026-10-15"})).json()
    assert [s["id"] for s in listed] == [made.json()["id"]]
    assert (await system.client.delete(f"/api/notify/silences/{made.json()['id']}")).status_code == 204
    _error(await system.client.delete(f"/api/notify/silences/{made.json()['id']}"), 404, "silence_not_found")
    assert (await system.client.delete("/api/notify/silences/0")).status_code == 422


async def test_the_rules_in_force_are_shown(system: System) -> None:
    answer = await system.client.get("/api/notify/rules")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["error"] is None and body["source"].endswith("rules.yaml")
    assert body["rules"]["chase"]["repeat_after"] == [1, 3, 7]
    assert (await system.anonymous.get("/api/notify/rules")).status_code == 401
