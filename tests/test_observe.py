"""Requests seen from outside: request ids, the JSON 500, /metrics, the error bodies in OpenAPI, /readyz off the loop."""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI
from prometheus_client.parser import text_string_to_metric_families

from services.common import runtime as runtime_module
from services.common.access import PUBLIC
from services.common.runtime import ServiceRuntime, create_service_app
from services.common.settings import ServiceSettings


def _probe_app(tmp_path: Path, **settings: object) -> FastAPI:
    router = APIRouter(dependencies=[Depends(PUBLIC)])

    @router.get("/boom/{n}")
    async def boom(n: int) -> None:
        raise RuntimeError(f"boom {n}")

    @router.get("/fine")
    async def fine() -> dict[str, str]:
        return {"ok": "yes"}

    runtime = ServiceRuntime(ServiceSettings(data_dir=tmp_path, service_name="probe", **settings), tables=[])
    return create_service_app(runtime, title="probe", description="", routers=[router])


@pytest.fixture
async def probe(tmp_path: Path) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = _probe_app(tmp_path, public_metrics=True)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://probe") as client:
        yield app, client
    app.state.runtime.engine.dispose()


async def test_an_unhandled_exception_is_a_json_500_with_a_request_id(
    probe: tuple[FastAPI, httpx.AsyncClient], json_log: io.StringIO
) -> None:
    _app, client = probe
    answer = await client.get("/boom/7", headers={"X-Request-Id": "lb-42.a"})
    assert answer.status_code == 500
    assert answer.headers["x-request-id"] == "lb-42.a"
    error = answer.json()["error"]
    assert error["code"] == "internal_error" and error["detail"] == {"request_id": "lb-42.a"}
    assert "lb-42.a" in error["message_zh"] and "lb-42.a" in error["message_en"]
    assert error["message"] == f"{error['message_zh']} / {error['message_en']}"
    [line] = [json.loads(x) for x in json_log.getvalue().splitlines() if "unhandled" in x]
    assert line["level"] == "ERROR" and line["request_id"] == "lb-42.a"
    assert "RuntimeError: boom 7" in line["traceback"]


async def test_a_request_id_is_made_when_none_or_an_odd_one_is_sent(probe: tuple[FastAPI, httpx.AsyncClient]) -> None:
    _app, client = probe
    plain = await client.get("/fine")
    odd = await client.get("/fine", headers={"X-Request-Id": "x" * 200})
    injected = await client.get("/fine", headers={"X-Request-Id": "a\tb"})
    ids = {plain.headers["x-request-id"], odd.headers["x-request-id"], injected.headers["x-request-id"]}
    assert len(ids) == 3 and all(len(i) == 16 for i in ids)
    refused = await client.get("/fine", headers={"X-Request-Id": "r1", "Authorization": "Bearer nope"})
    assert refused.headers["x-request-id"] == "r1"  # on every answer, not only the 500


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_metrics_count_requests_by_route_template_and_status(probe: tuple[FastAPI, httpx.AsyncClient]) -> None:
    _app, client = probe
    for n in (1, 2):
        await client.get(f"/boom/{n}")
    await client.get("/fine")
    await client.get("/nowhere/at/all")
    answer = await client.get("/metrics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    families = {f.name for f in text_string_to_metric_families(answer.text)}
    assert {
        "luoshi_http_requests",
        "luoshi_http_request_duration_seconds",
        "luoshi_events_consumed",
        "luoshi_events_published",
        "luoshi_events_dead_lettered",
        "luoshi_outbox_backlog_events",
        "luoshi_outbox_oldest_pending_age_seconds",
        "luoshi_consumer_pending_events",
    } <= families
    samples = _samples(answer.text)
    requests = "luoshi_http_requests_total"
    assert samples[(requests, (("method", "GET"), ("route", "/boom/{n}"), ("status", "500")))] == 2
    assert samples[(requests, (("method", "GET"), ("route", "/fine"), ("status", "200")))] == 1
    assert samples[(requests, (("method", "GET"), ("route", "<unmatched>"), ("status", "404")))] == 1
    count = samples[("luoshi_http_request_duration_seconds_count", (("method", "GET"), ("route", "/boom/{n}")))]
    assert count == 2


async def test_metrics_need_the_office_unless_made_public(tmp_path: Path) -> None:
    app = _probe_app(tmp_path)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://probe") as client:
        answer = await client.get("/metrics")
    assert (answer.status_code, answer.json()["error"]["code"]) == (401, "token_missing")
    app.state.runtime.engine.dispose()


async def test_two_apps_in_one_process_count_apart(tmp_path: Path) -> None:
    first, second = _probe_app(tmp_path / "a", public_metrics=True), _probe_app(tmp_path / "b", public_metrics=True)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=first), base_url="http://a") as client:
        await client.get("/fine")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=second), base_url="http://b") as client:
        text = (await client.get("/metrics")).text
    assert not any(
        name == "luoshi_http_requests_total" and ("route", "/fine") in labels for name, labels in _samples(text)
    )
    for app in (first, second):
        app.state.runtime.engine.dispose()


async def test_readyz_asks_the_database_off_the_event_loop(
    probe: tuple[FastAPI, httpx.AsyncClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    _app, client = probe

    def slow_ping(_engine: object) -> bool:
        time.sleep(0.6)  # a database that takes its time
        return True

    monkeypatch.setattr(runtime_module, "ping", slow_ping)
    readyz = asyncio.ensure_future(client.get("/readyz"))
    await asyncio.sleep(0.05)
    started = time.perf_counter()
    assert (await client.get("/healthz")).status_code == 200
    assert time.perf_counter() - started < 0.3  # answered while the ping waited
    answer = await readyz
    assert answer.json()["checks"]["database"] is True


def test_every_service_documents_its_real_error_body(tmp_path: Path) -> None:
    from services.gateway import SERVICES, create_gateway

    gateway = create_gateway(nats_url="nats://127.0.0.1:1", data_dir=tmp_path)
    for name in SERVICES:
        schema = gateway.state.apps[name].openapi()
        assert "HTTPValidationError" not in json.dumps(schema), name
        assert "ErrorResponse" in schema["components"]["schemas"]
        for path, item in schema["paths"].items():
            for method, operation in item.items():
                responses = operation["responses"]
                assert "500" in responses, f"{name} {method} {path}"
                for status, answer in responses.items():
                    if status[0] in "45":
                        ref = answer["content"]["application/json"]["schema"]["$ref"]
                        assert ref.endswith("/ErrorResponse"), f"{name} {method} {path} {status}"
                if operation.get("security"):
                    assert {"401", "403"} <= set(responses), f"{name} {method} {path}"
    registry = gateway.state.apps["registry"].openapi()["paths"]
    assert {"404", "409", "412", "413", "422", "428"} <= set(registry["/tasks/{task_id}"]["patch"]["responses"])
    for app in gateway.state.apps.values():
        app.state.runtime.engine.dispose()
