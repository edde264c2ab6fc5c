"""Who may call what: every route of every service, called with no token, a revoked one, a wrong role and the right one."""

from __future__ import annotations

import re
from collections.abc import Iterator
from importlib import resources

import httpx
import pytest
from fastapi import APIRouter
from fastapi.routing import APIRoute
from sse_starlette import EventSourceResponse

from services.common.access import Public, api_routes, declared, route_access
from services.common.runtime import ServiceRuntime, create_service_app
from services.common.settings import ServiceSettings
from tests.flows.conftest import System
from tests.helpers import bearer, eventually, issue_token_direct, token_known

pytestmark = pytest.mark.nats

EXAMPLE = resources.files("services.ingest").joinpath("examples", "example-notice.txt").read_bytes()
HOST = "县工业和信息化局"
# What a caller who got past the role check may still be told; anything else means the check failed.
REFUSALS = {"token_missing", "token_invalid", "role_forbidden", "route_undeclared"}


def _routes(system: System) -> Iterator[tuple[str, APIRoute]]:
    for name, app in system.app.state.apps.items():
        for route in api_routes(app.state.routers):
            yield name, route


def _url(service: str, route: APIRoute) -> str:
    # Ids that exist nowhere: a caller let through gets a 404 or 422, never a change.
    url = f"/api/{service}" + re.sub(r"\{[^}]+\}", "0", route.path)
    # A live feed (server-sent events) never ends by itself; asked not to follow, it sends what
    # there is and closes, so the whole answer can be read.
    return url + "?follow=false" if route.response_class is EventSourceResponse else url


async def _call(client: httpx.AsyncClient, method: str, url: str, token: str | None) -> httpx.Response:
    headers = bearer(token) if token else {}
    body = {} if method in ("POST", "PUT", "PATCH") else None
    return await client.request(method, url, json=body, headers=headers)


def _code(response: httpx.Response) -> str | None:
    try:
        return str(response.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return None


@pytest.fixture(scope="module")
async def tokens(system: System) -> dict[str, str]:
    upload = await system.client.post("/api/ingest/notices", files={"file": ("example.txt", EXAMPLE, "text/plain")})
    assert upload.status_code == 202, upload.text

    async def unit_issued() -> str | None:
        answer = await system.client.post("/api/progress/tokens", json={"role": "unit", "unit": HOST})
        return str(answer.json()["token"]) if answer.status_code == 201 else None

    unit = await eventually(unit_issued, what="progress to know the example's units")
    await token_known(system.app, unit)
    supervisor = issue_token_direct(system.app, role="supervisor", post="县长")
    revoked = issue_token_direct(system.app, role="office")
    await token_known(system.app, supervisor)
    await token_known(system.app, revoked)
    token_id = revoked.split("_")[1]
    assert (await system.client.delete(f"/api/progress/tokens/{token_id}")).status_code == 200
    await token_known(system.app, revoked, known=False)
    return {"office": system.office, "supervisor": supervisor, "unit": unit, "revoked": revoked}


async def test_every_route_declares_who_may_call_it(system: System) -> None:
    undeclared = [f"{name} {route.methods} {route.path}" for name, route in _routes(system) if not declared(route)]
    assert undeclared == []
    assert sum(1 for _ in _routes(system)) >= 50


async def test_every_route_refuses_the_wrong_callers_and_admits_the_right_ones(
    system: System, tokens: dict[str, str]
) -> None:
    client = system.anonymous
    checked = 0
    for name, route in _routes(system):
        access = route_access(route)
        assert access is not None
        for method in route.methods:
            url = _url(name, route)
            if isinstance(access, Public):
                assert (await _call(client, method, url, None)).status_code < 400, url
                continue
            anonymous = await _call(client, method, url, None)
            if access.public_setting is None:
                assert (anonymous.status_code, _code(anonymous)) == (401, "token_missing"), f"{method} {url}"
            revoked = await _call(client, method, url, tokens["revoked"])
            assert (revoked.status_code, _code(revoked)) == (401, "token_invalid"), f"{method} {url}"
            for role in ("office", "supervisor", "unit"):
                answer = await _call(client, method, url, tokens[role])
                if role in access.roles:
                    assert _code(answer) not in REFUSALS, f"{role} {method} {url}: {answer.text}"
                else:
                    assert (answer.status_code, _code(answer)) == (403, "role_forbidden"), f"{role} {method} {url}"
            checked += 1
    assert checked >= 45


async def test_a_route_that_declares_no_role_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    router = APIRouter()

    @router.get("/forgotten")
    async def forgotten() -> dict[str, str]:
        return {"secret": "x"}

    runtime = ServiceRuntime(ServiceSettings(data_dir=tmp_path, service_name="probe"), tables=[])
    app = create_service_app(runtime, title="probe", description="", routers=[router])
    [route] = [r for r in api_routes(app.state.routers) if r.path == "/forgotten"]
    assert not declared(route)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://probe") as client:
        answer = await client.get("/forgotten")
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "route_undeclared"
    runtime.engine.dispose()
