"""Hostile values in every kind of input: a bilingual 4xx, nothing written, never a 500."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import Session

from services.common.natsserver import NatsServer
from services.registry.models import RegistryTask
from tests.flows.conftest import System
from tests.flows.test_bad_input import EXAMPLE, _a_task, _assert_error, _reports
from tests.helpers import eventually
from tests.progress.support import bearer, office_token, unit_token
from tests.progress.test_api import _tasks, running

pytestmark = pytest.mark.nats

HUGE = str(2**63)

LIST_ROUTES = (
    "/api/ingest/notices",
    "/api/registry/tasks",
    "/api/registry/units",
    "/api/registry/links",
    "/api/registry/units/u-none/tasks",
    "/api/notify/escalations",
    "/api/progress/receipts",
    "/api/progress/tasks/t-none-1/status",
)


@pytest.mark.parametrize("path", LIST_ROUTES)
@pytest.mark.parametrize("param", ["offset", "limit"])
async def test_page_bounds_are_4xx(system: System, path: str, param: str) -> None:
    for value in (HUGE, "1000000001", "-1", "1.5", "x"):
        _assert_error(await system.client.get(path, params={param: value}), 422, "invalid_request")


@pytest.mark.parametrize("path", ["/api/registry/links/9223372036854775808/confirm", "/api/registry/links/-1/reject"])
async def test_row_ids_are_bounded(system: System, path: str) -> None:
    _assert_error(await system.client.post(path), 422, "invalid_request")


@pytest.mark.parametrize("value", ["\x00", "a\x00b", "路\x07", "\x1b[31m"])
@pytest.mark.parametrize("param", ["q", "unit", "leader", "notice"])
async def test_control_characters_in_queries_are_422(system: System, param: str, value: str) -> None:
    _assert_error(await system.client.get("/api/registry/tasks", params={param: value}), 422, "invalid_request")


async def test_control_characters_in_paths_are_422(system: System) -> None:
    _assert_error(await system.client.get("/api/registry/tasks/t%00x"), 422, "invalid_request")


async def _unit_client(system: System) -> tuple[dict, dict[str, str]]:  # type: ignore[type-arg]
    task = await _a_task(system)
    token = await unit_token(system.client, system.office, task["host_units"][0]["name"])
    return task, bearer(token)


@pytest.mark.parametrize(
    "body",
    [
        b'{"percent": 10, "narrative": "\\ud800"}',
        b'{"percent": 10, "narrative": "a\\u0000b"}',
        b'{"percent": 10, "issues": "\\u0007"}',
        b'{"percent": 10, "next_steps": "\\udfff x"}',
        b'{"percent": "50"}',
        b'{"percent": true}',
        b'{"percent": 1e999}',
        b'{"percent": NaN}',
        b'{"percent": Infinity}',
        b'{"percent": 10, "quantities": {"0": 1e999}}',
        b'{"percent": 10, "quantities": {"0": "3"}}',
        b'{"percent": 10, "quantities": {"0": true}}',
        b'{"percent": 10, "links": ["javascript:alert(1)"]}',
        b'{"percent": 10, "links": ["file:///etc/passwd"]}',
        b'{"percent": 10, "links": ["https://"]}',
        b'{"percent": 10, "links": ["https://a b.cn"]}',
        b'{"percent": 10, "links": ["http://a\\u0000b"]}',
        b'{"percent": 10, "period": "2026-03\\u0000"}',
    ],
)
async def test_bad_report_values_are_refused(system: System, body: bytes) -> None:
    task, auth = await _unit_client(system)
    before = _reports(system)
    response = await system.client.post(
        f"/api/progress/tasks/{task['task_id']}/progress",
        content=body,
        headers={"content-type": "application/json", **auth},
    )
    _assert_error(response, 422, "invalid_request")
    assert _reports(system) == before


async def test_good_report_with_lines_tabs_and_links_is_accepted(system: System) -> None:
    task, auth = await _unit_client(system)
    body = {"percent": 40, "narrative": "一期\n\t二期", "links": ["https://example.gov.cn/a?b=1"]}
    response = await system.client.post(f"/api/progress/tasks/{task['task_id']}/progress", json=body, headers=auth)
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    "body",
    [
        b'{"quantities": [{"text": "x", "value": 1e999, "unit": "\\u5bb6"}]}',
        b'{"quantities": [{"text": "x", "value": "3", "unit": "\\u5bb6"}]}',
        b'{"quantities": [{"text": "x", "value": 1e300, "unit": "\\u5bb6"}]}',
        b'{"due_date": "0001-01-01"}',
        b'{"due_date": "9999-12-31"}',
        b'{"text": "a\\u0000b"}',
        b'{"text": "\\ud800"}',
        b'{"leaders": ["\\u738b\\u0000"]}',
        b'{"host_units": ["\\u0001"]}',
        b'{"deadline_phrase": "\\u0000"}',
    ],
)
async def test_bad_corrections_are_refused_and_the_list_still_answers(system: System, body: bytes) -> None:
    task = await _a_task(system)
    response = await system.client.patch(
        f"/api/registry/tasks/{task['task_id']}", content=body, headers={"content-type": "application/json"}
    )
    _assert_error(response, 422)
    assert (await system.client.get(f"/api/registry/tasks/{task['task_id']}")).json()["version"] == task["version"]
    assert (await system.client.get("/api/registry/tasks")).status_code == 200


async def test_a_due_date_far_from_the_notice_year_is_refused(system: System) -> None:
    task = await _a_task(system)
    url = f"/api/registry/tasks/{task['task_id']}"
    etag = {"If-Match": (await system.client.get(url)).headers["ETag"]}
    far = await system.client.patch(url, json={"due_date": "2090-06-30"}, headers=etag)
    _assert_error(far, 422, "due_date_out_of_range")
    ok = await system.client.patch(url, json={"due_date": "2027-06-30"}, headers=etag)
    assert ok.status_code == 200, ok.text


@pytest.mark.parametrize(
    "body",
    [
        {"name": "局\x00"},
        b'{"name": "\\ud800\\u5c40"}',
        {"name": "局\n二"},
        {"name": "好局", "aliases": ["别\x00名"]},
        {"name": "好局", "kind": "bureau\x00"},
        {"name": "好局", "is_group": "yes"},
        {"name": "好局", "is_group": 1},
        {"name": "㍿" * 200},  # NFKC makes each 株式会社: 800 characters
        {"name": "好局", "aliases": ["㍿" * 60]},
    ],
)
async def test_bad_unit_names_are_refused(system: System, body: dict | bytes) -> None:  # type: ignore[type-arg]
    before = (await system.client.get("/api/registry/units")).json()["count"]
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = await system.client.post(
        "/api/registry/units", content=raw, headers={"content-type": "application/json"}
    )
    _assert_error(response, 422)
    assert (await system.client.get("/api/registry/units")).json()["count"] == before


async def test_parent_cycles_are_refused(system: System) -> None:
    for name in ("循环甲局", "循环乙局", "循环丙局"):
        assert (await system.client.post("/api/registry/units", json={"name": name})).status_code == 201
    a = (await system.client.get("/api/registry/units", params={"q": "循环甲局"})).json()["data"][0]["unit_id"]
    ok = await system.client.patch(f"/api/registry/units/{a}", json={"parent": "循环乙局"})
    assert ok.status_code == 200, ok.text
    b = (await system.client.get("/api/registry/units", params={"q": "循环乙局"})).json()["data"][0]["unit_id"]
    assert (await system.client.patch(f"/api/registry/units/{b}", json={"parent": "循环丙局"})).status_code == 200
    c = (await system.client.get("/api/registry/units", params={"q": "循环丙局"})).json()["data"][0]["unit_id"]
    _assert_error(
        await system.client.patch(f"/api/registry/units/{c}", json={"parent": "循环甲局"}), 422, "parent_cycle"
    )
    _assert_error(
        await system.client.patch(f"/api/registry/units/{a}", json={"parent": "循环甲局"}), 422, "parent_cycle"
    )
    assert (await system.client.get(f"/api/registry/units/{c}")).json()["parent_id"] is None


@pytest.mark.parametrize(
    "text",
    [
        "units: 5\n",
        "units: [5]\n",
        "units:\n  - name: 5\n",
        "posts: {a: 1}\n",
        'units:\n  - name: "\\0"\n',
        "units:\n  - {name: 环一局, parent: 环二局}\n  - {name: 环二局, parent: 环一局}\n",
    ],
)
async def test_bad_directory_files_are_422_and_change_nothing(system: System, text: str) -> None:
    before = (await system.client.get("/api/registry/directory/export")).text
    response = await system.client.post("/api/registry/directory/import", content=text.encode())
    _assert_error(response, 422)
    assert (await system.client.get("/api/registry/directory/export")).text == before


@pytest.mark.parametrize(
    "body",
    [
        {"due_date": "0001-01-01", "reason": "需要时间"},
        {"due_date": "9999-12-31", "reason": "需要时间"},
        {"due_date": "2026-12-31", "reason": "需要\x00时间"},
    ],
)
async def test_bad_extensions_are_refused(system: System, body: dict) -> None:  # type: ignore[type-arg]
    task, auth = await _unit_client(system)
    response = await system.client.post(f"/api/progress/tasks/{task['task_id']}/extensions", json=body, headers=auth)
    _assert_error(response, 422)


async def test_strict_booleans_in_decisions(system: System) -> None:
    office = bearer(system.office)
    response = await system.client.post("/api/progress/extensions/x/decision", json={"approve": "yes"}, headers=office)
    _assert_error(response, 422, "invalid_request")


@pytest.mark.postgres
async def test_nul_is_refused_before_postgresql_sees_it(
    nats_server: NatsServer, subject_root: str, tmp_path: Path, pg_databases: dict[str, str]
) -> None:
    """PostgreSQL refuses NUL in text with an error of its own; it must never get that far."""
    async with running(nats_server, subject_root, tmp_path, pg_databases) as (app, client, _clock):
        ids = await _tasks(client)
        task_id = ids[1]
        office = await office_token(app)
        task = (await client.get(f"/api/registry/tasks/{task_id}")).json()
        unit = await unit_token(client, office, task["host_units"][0]["name"], gateway=app)
        url = f"/api/progress/tasks/{task_id}/progress"
        nul = {"percent": 10, "narrative": "完成\x00一半"}
        _assert_error(await client.post(url, json=nul, headers=bearer(unit)), 422, "invalid_request")
        label = {"role": "unit", "unit": task["host_units"][0]["name"], "label": "a\x00"}
        _assert_error(await client.post("/api/progress/tokens", json=label, headers=bearer(office)), 422)
        _assert_error(await client.get("/api/registry/tasks", params={"q": "a\x00b"}), 422, "invalid_request")
        _assert_error(await client.get("/api/registry/tasks/t%00"), 422, "invalid_request")
        assert (await client.post(url, json={"percent": 10}, headers=bearer(unit))).status_code == 201


def _noisy_notice() -> bytes:
    text = EXAMPLE.decode()
    text = text.replace("新增规上工业企业20家", "新增规上工业企业" + "9" * 400 + "家")
    # A NUL anywhere makes a .txt binary (415); other controls are dropped by the normaliser.
    text = text.replace("稳定和扩大就业", "稳定\x0e和扩大\x1b就业\x7f").replace(
        "县工业和信息化局", "县工业\x07和信息化局"
    )
    # Longer than the registry's columns: cut with a warning rather than a notice that never arrives.
    text = text.replace("县教育和体育局", "县" + "教" * 300 + "局").replace(
        "牵头领导：赵刚", "牵头领导：赵" + "刚" * 150
    )
    return text.encode()


@pytest.mark.postgres
async def test_an_uploaded_notice_with_control_characters_reaches_postgresql_clean(
    nats_server: NatsServer, subject_root: str, tmp_path: Path, pg_databases: dict[str, str]
) -> None:
    """Escapes dropped, an endless number no target, over-long names cut: the tasks arrive."""
    async with running(nats_server, subject_root, tmp_path, pg_databases) as (_app, client, _clock):
        name = "\x00" + "长" * 600 + ".txt"
        upload = await client.post("/api/ingest/notices", files={"file": (name, _noisy_notice(), "text/plain")})
        assert upload.status_code == 202, upload.text

        async def all_tasks() -> list[dict] | None:  # type: ignore[type-arg]
            body = (await client.get("/api/registry/tasks")).json()
            return body["data"] if body["count"] == 5 else None

        tasks = await eventually(all_tasks, what="the noisy notice's five tasks in the registry")
        text = json.dumps(tasks, ensure_ascii=False)
        assert not any(c in text for c in "\x0e\x1b\x07\x7f")
        assert all(q["value"] is not None and q["value"] < 1e12 for t in tasks for q in t["quantities"])
        assert "县工业和信息化局" in [u["name"] for t in tasks for u in t["host_units"]]
        assert max(len(u["name"]) for t in tasks for u in t["host_units"]) == 200
        assert max(len(name) for t in tasks for name in t["leaders"]) == 100
        stored = (await client.get(f"/api/ingest/notices/{upload.json()['notice_id']}")).json()
        assert stored["filename"].endswith(".txt") and "\x00" not in stored["filename"]


async def test_a_quantity_stored_as_null_by_an_older_version_does_not_break_reads(system: System) -> None:
    task = await _a_task(system)
    runtime = system.app.state.apps["registry"].state.runtime
    with Session(runtime.engine) as session:
        row = session.get(RegistryTask, task["task_id"])
        assert row is not None
        row.quantities = [*row.quantities, {"text": "新增∞家", "value": None, "unit": "家"}]
        session.add(row)
        session.commit()
    listed = await system.client.get("/api/registry/tasks")
    assert listed.status_code == 200, listed.text
    one = (await system.client.get(f"/api/registry/tasks/{task['task_id']}")).json()
    assert [q["value"] for q in one["quantities"]] == [q["value"] for q in task["quantities"]]


@pytest.mark.parametrize("body", [{"by": "王明", "extra": 1}, {"by": "王\x00明"}, {"by": 5}])
async def test_bad_acknowledgements_are_refused(system: System, body: dict) -> None:  # type: ignore[type-arg]
    _assert_error(await system.client.post("/api/notify/escalations/none/ack", json=body), 422, "invalid_request")
