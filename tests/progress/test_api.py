"""The progress API end to end on a real nats-server, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import io
import json
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import httpx
import nats
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from openpyxl import load_workbook

from proto.subjects import Subjects, unit_token
from services.common.clock import ManualClock
from services.common.natsserver import NatsServer
from services.gateway import create_gateway
from services.progress.ledger import COLUMNS, FLAG_FILL
from tests.helpers import eventually
from tests.progress.support import bearer, office_token
from tests.progress.support import unit_token as issue_unit_token

pytestmark = pytest.mark.nats

EXAMPLE = resources.files("services.ingest").joinpath("examples", "example-notice.txt").read_bytes()
DOC_NO = "示政发〔2026〕1号"
HOST, CO, OTHER = "县工业和信息化局", "县经济开发区", "县人力资源和社会保障局"
P = "/api/progress"


@asynccontextmanager
async def running(
    nats_server: NatsServer, root: str, data: Path, database_urls: dict[str, str] | None
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient, ManualClock]]:
    clock = ManualClock(datetime(2026, 3, 1, 9, 0))
    app = create_gateway(
        nats_url=nats_server.url, data_dir=data, subject_root=root, clock=clock, database_urls=database_urls
    )
    async with (
        LifespanManager(app, startup_timeout=30, shutdown_timeout=30),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://luoshi") as client,
    ):
        # Requests without headers of their own act as the office; each test names other callers.
        client.headers.update(bearer(await office_token(app)))
        yield app, client, clock


async def _tasks(client: httpx.AsyncClient) -> dict[int, str]:
    upload = await client.post("/api/ingest/notices", files={"file": ("example.txt", EXAMPLE, "text/plain")})
    assert upload.status_code == 202, upload.text

    async def all_known() -> dict[int, str] | None:
        body = (await client.get("/api/registry/tasks")).json()
        if body["count"] != 5:
            return None
        ids = {t["number"]: t["task_id"] for t in body["data"]}
        for tid in ids.values():
            if (await client.get(f"{P}/tasks/{tid}/status")).status_code != 200:
                return None
        return ids

    return await eventually(all_known, what="progress to know the 5 tasks")


def _error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()["error"]
    assert body["code"] == code and body["message_zh"] and body["message_en"]


async def _main_flow(app: FastAPI, client: httpx.AsyncClient, clock: ManualClock, nats_url: str, root: str) -> None:
    watcher = await nats.connect(nats_url)
    changes: list[dict] = []  # type: ignore[type-arg]

    async def on_change(msg: nats.aio.msg.Msg) -> None:
        changes.append(json.loads(msg.data))

    await watcher.subscribe(Subjects(root).status_changed, cb=on_change)
    try:
        ids = await _tasks(client)
        t1, t3 = ids[1], ids[3]
        office = await office_token(app)
        host = await issue_unit_token(client, office, HOST)
        co = await issue_unit_token(client, office, unit_token(CO))  # a unit may be named by its id too
        other = await issue_unit_token(client, office, OTHER)
        _error(await client.post(f"{P}/tokens", json={"unit": HOST}, headers=bearer(host)), 403, "role_forbidden")
        _error(
            await client.post(f"{P}/tokens", json={"unit": "县不存在局"}, headers=bearer(office)), 404, "unit_unknown"
        )
        listed = (await client.get(f"{P}/tokens", headers=bearer(office))).json()
        assert {t["unit_id"] for t in listed} >= {unit_token(HOST), unit_token(CO), unit_token(OTHER)}
        assert all("token" not in t for t in listed)

        # 签收
        signed = await client.post(f"{P}/tasks/{t1}/receipt", headers=bearer(host))
        assert signed.status_code == 200 and signed.json()["acknowledged_at"], signed.text
        pending = (await client.get(f"{P}/receipts", headers=bearer(host))).json()
        assert t1 not in {r["task_id"] for r in pending}

        # Report, retry with the same key, the co-unit's report and a stranger's.
        body = {"percent": 20, "narrative": "新材料产业园一期主体施工。", "period": "2026-02", "quantities": {"0": 4}}
        first = await client.post(f"{P}/tasks/{t1}/progress", json=body, headers=bearer(host, idempotency_key="r-1"))
        assert first.status_code == 201, first.text
        retry = await client.post(f"{P}/tasks/{t1}/progress", json=body, headers=bearer(host, idempotency_key="r-1"))
        assert retry.status_code == 201 and retry.json() == first.json()
        assert retry.headers["Idempotent-Replay"] == "true"
        assert (
            await client.post(f"{P}/tasks/{t1}/progress", json={"percent": 30}, headers=bearer(co))
        ).status_code == 201
        _error(
            await client.post(f"{P}/tasks/{t1}/progress", json={"percent": 5}, headers=bearer(other)),
            403,
            "unit_not_responsible",
        )

        # Revoked: 401 from then on.
        other_id = next(
            t["token_id"]
            for t in (await client.get(f"{P}/tokens", headers=bearer(office))).json()
            if t["unit_id"] == unit_token(OTHER)
        )
        assert (await client.delete(f"{P}/tokens/{other_id}", headers=bearer(office))).status_code == 200
        _error(
            await client.post(f"{P}/tasks/{t3}/progress", json={"percent": 5}, headers=bearer(other)),
            401,
            "token_invalid",
        )

        status = (await client.get(f"{P}/tasks/{t1}/status")).json()
        assert status["report_count"] == 2 and len(status["reports"]) == 2
        assert status["unacknowledged"] == [unit_token("县发展改革局")]
        assert {r["unit_id"] for r in status["latest_by_unit"]} == {unit_token(HOST), unit_token(CO)}

        # 延期, approved by the office; 办结 sent back once, then approved.
        asked = await client.post(
            f"{P}/tasks/{t1}/extensions",
            json={"due_date": "2027-06-30", "reason": "用地审批延后"},
            headers=bearer(host),
        )
        assert asked.status_code == 201, asked.text
        _error(
            await client.post(
                f"{P}/extensions/{asked.json()['extension_id']}/decision", json={"approve": True}, headers=bearer(host)
            ),
            403,
            "role_forbidden",
        )
        decided = await client.post(
            f"{P}/extensions/{asked.json()['extension_id']}/decision",
            json={"approve": True, "comment": "同意"},
            headers=bearer(office),
        )
        assert decided.json()["state"] == "approved"
        status = (await client.get(f"{P}/tasks/{t1}/status")).json()
        assert (status["due_date"], status["original_due_date"]) == ("2027-06-30", "2026-12-31")

        # The government's day: 23:59 and 00:01 in Beijing on a month's last and first day.
        clock.set(datetime(2026, 3, 31, 15, 59, tzinfo=UTC))
        march = await client.post(f"{P}/tasks/{t1}/progress", json={"percent": 25}, headers=bearer(host))
        assert march.json()["period"] == "2026-03", march.text
        clock.set(datetime(2026, 3, 31, 16, 1, tzinfo=UTC))  # 2026-04-01 00:01 in Beijing
        april = await client.post(f"{P}/tasks/{t1}/progress", json={"percent": 30}, headers=bearer(host))
        assert april.json()["period"] == "2026-04", april.text
        status = (await client.get(f"{P}/tasks/{t1}/status")).json()
        assert status["last_report_at"] == "2026-03-31T16:01:00Z" and status["days_since_last_report"] == 0
        assert status["reports"][1]["received_at"] == "2026-03-31T15:59:00+00:00"

        clock.set(datetime(2026, 11, 20, 9, 0))
        ask = await client.post(f"{P}/tasks/{t1}/closeout", json={"summary": "一期竣工投产"}, headers=bearer(host))
        assert ask.status_code == 201, ask.text
        back = await client.post(
            f"{P}/closeouts/{ask.json()['closeout_id']}/decision",
            json={"approve": False, "comment": "请补充验收报告"},
            headers=bearer(office),
        )
        assert back.json()["state"] == "returned"
        again = await client.post(f"{P}/tasks/{t1}/closeout", json={"summary": "补充验收报告"}, headers=bearer(host))
        approved = await client.post(
            f"{P}/closeouts/{again.json()['closeout_id']}/decision", json={"approve": True}, headers=bearer(office)
        )
        assert approved.json()["state"] == "approved"
        status = (await client.get(f"{P}/tasks/{t1}/status")).json()
        assert (status["flag"], status["closeout_state"], status["percent"]) == ("blue", "closed", 100)
        assert [c["state"] for c in status["closeouts"]] == ["returned", "approved"]
        _error(
            await client.post(f"{P}/tasks/{t1}/progress", json={"percent": 100}, headers=bearer(host)),
            409,
            "task_closed",
        )

        # Roll-ups.
        notice = (await client.get(f"{P}/status", params={"by": "notice"})).json()["data"]
        [row] = [r for r in notice if r["key"] == DOC_NO]
        assert row["total"] == 5 and row["blue"] + row["yellow"] + row["red"] == 5 and row["closed"] == 1
        units = {r["label"]: r for r in (await client.get(f"{P}/status", params={"by": "unit"})).json()["data"]}
        assert units[HOST]["closed"] == 1
        for by in ("leader", "chapter"):
            assert (await client.get(f"{P}/status", params={"by": by})).json()["count"] > 0
        _error(await client.get(f"{P}/status", params={"by": "town"}), 422, "rollup_unknown")
        mine = (await client.get(f"{P}/status", params={"by": "unit", "notice": DOC_NO})).json()
        assert mine["notice"] == DOC_NO and {r["label"]: r for r in mine["data"]}[HOST] == units[HOST]
        _error(await client.get(f"{P}/status", params={"by": "unit", "notice": "无此通知"}), 404, "notice_not_found")

        # The ledger.
        xlsx = await client.get(f"{P}/ledger.xlsx", params={"notice": DOC_NO})
        assert xlsx.status_code == 200 and "spreadsheetml" in xlsx.headers["content-type"]
        sheet = load_workbook(io.BytesIO(xlsx.content)).active
        assert [c.value for c in sheet[1]] == list(COLUMNS)
        assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:J6"
        rows = {r[0]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
        assert sorted(rows) == [1, 2, 3, 4, 5]
        assert rows[1][2] == "王明" and rows[1][3] == "县工业和信息化局、县发展改革局"
        assert rows[1][8] == 1.0 and rows[1][9] == "蓝（已办结）"
        assert rows[1][7] == f"【2026-04 {HOST}】"  # the host's latest, named
        assert "已延期至 2027-06-30" in rows[1][5]
        for r in range(2, 7):
            flag_word = sheet.cell(r, 10).value[0]
            flag = {"蓝": "blue", "黄": "yellow", "红": "red"}[flag_word]
            assert sheet.cell(r, 10).fill.start_color.rgb.endswith(FLAG_FILL[flag])
            assert sheet.cell(r, 9).number_format == "0.0%"
        assert sheet.column_dimensions["B"].width >= 40  # 任务内容 is long Chinese text
        assert sheet.column_dimensions["A"].width < 10
        csv = await client.get(f"{P}/ledger.csv", params={"notice": DOC_NO})
        assert csv.content.startswith("\ufeff".encode())
        lines = csv.content.decode("utf-8-sig").splitlines()
        assert lines[0] == ",".join(COLUMNS) and len(lines) == 6
        _error(await client.get(f"{P}/ledger.xlsx", params={"notice": "无此通知"}), 404, "notice_not_found")

        await eventually(lambda: _closed_change(changes, t1), what="status.changed for the close-out on NATS")
        closed = next(c for c in changes if c["task_id"] == t1 and c["rule"] == "closed")
        assert closed["host_unit_ids"] == [unit_token(HOST), unit_token("县发展改革局")]
    finally:
        await watcher.close()


async def _closed_change(changes: list[dict], task_id: str) -> bool:  # type: ignore[type-arg]
    return any(c["task_id"] == task_id and c.get("rule") == "closed" for c in changes)


async def test_main_flow_on_sqlite(nats_server: NatsServer, subject_root: str, tmp_path: Path) -> None:
    async with running(nats_server, subject_root, tmp_path, None) as (app, client, clock):
        await _main_flow(app, client, clock, nats_server.url, subject_root)


@pytest.mark.postgres
async def test_main_flow_on_postgres(
    nats_server: NatsServer, subject_root: str, tmp_path: Path, pg_databases: dict[str, str]
) -> None:
    async with running(nats_server, subject_root, tmp_path, pg_databases) as (app, client, clock):
        await _main_flow(app, client, clock, nats_server.url, subject_root)


async def test_reads_need_a_token_unless_the_roll_ups_are_made_public(
    nats_server: NatsServer, subject_root: str, tmp_path: Path
) -> None:
    async with running(nats_server, subject_root, tmp_path, None) as (app, client, _clock):
        ids = await _tasks(client)
        anonymous = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://luoshi")
        sensitive = [f"{P}/tasks/{ids[1]}/status", f"{P}/extensions", f"{P}/closeouts", f"{P}/ledger.csv?notice=x"]
        for path in [f"{P}/status", *sensitive]:
            _error(await anonymous.get(path), 401, "token_missing")
        assert (await client.get(f"{P}/status")).status_code == 200
        # An operator opens the roll-ups to anyone; what units wrote stays behind a token.
        app.state.apps["progress"].state.runtime.settings.public_reads = True
        assert (await anonymous.get(f"{P}/status?by=unit")).status_code == 200
        for path in sensitive:
            _error(await anonymous.get(path), 401, "token_missing")
        _error(await anonymous.get(f"{P}/status", headers=bearer("lsp_forged_x")), 401, "token_invalid")
        await anonymous.aclose()


async def test_many_readers_at_once_are_all_answered(
    nats_server: NatsServer, subject_root: str, tmp_path: Path
) -> None:
    """A dashboard wall polling together: more concurrent reads than FastAPI has worker threads, none refused."""
    async with running(nats_server, subject_root, tmp_path, None) as (_app, client, _clock):
        ids = await _tasks(client)
        paths = [f"{P}/tasks/{tid}/status" for tid in ids.values()] + [
            f"{P}/status?by={by}" for by in ("unit", "leader")
        ]
        answers = await asyncio.gather(*(client.get(paths[i % len(paths)]) for i in range(120)))
        assert [a.status_code for a in answers] == [200] * 120


async def test_a_long_writer_holding_the_gate_never_stalls_the_event_loop(
    nats_server: NatsServer, subject_root: str, tmp_path: Path
) -> None:
    """While a clock tick (here: a thread holding the write gate) runs, reads answer and a report waits, then lands."""
    async with running(nats_server, subject_root, tmp_path, None) as (app, client, _clock):
        ids = await _tasks(client)
        token = await issue_unit_token(client, (await office_token(app)), HOST)
        gate = app.state.apps["progress"].state.write_gate
        held, release = threading.Event(), threading.Event()

        def long_writer() -> None:
            with gate:
                held.set()
                release.wait(10)

        holder = threading.Thread(target=long_writer)
        holder.start()
        held.wait(5)
        try:
            report = asyncio.ensure_future(
                client.post(f"{P}/tasks/{ids[1]}/progress", json={"percent": 10}, headers=bearer(token))
            )
            await asyncio.sleep(0.3)
            assert not report.done()  # waiting for the gate, in a worker thread
            started = time.perf_counter()
            assert (await client.get(f"{P}/tasks/{ids[1]}/status")).status_code == 200
            assert (await client.get("/api/progress/healthz")).status_code == 200
            assert time.perf_counter() - started < 2  # the loop kept answering
        finally:
            release.set()
            holder.join()
        answer = await report
        assert answer.status_code == 201, answer.text


def test_the_report_route_documents_its_token_and_idempotency_key(tmp_path: Path) -> None:
    # The route reads both headers itself (see views.post_progress), so OpenAPI is declared by hand.
    from services.progress.app import create_app
    from services.progress.settings import ProgressSettings

    app = create_app(ProgressSettings(data_dir=tmp_path))
    post = app.openapi()["paths"]["/tasks/{task_id}/progress"]["post"]
    assert post["security"] == [{"HTTPBearer": []}]
    assert "HTTPBearer" in app.openapi()["components"]["securitySchemes"]
    [key] = [p for p in post["parameters"] if p["name"] == "Idempotency-Key"]
    assert key["in"] == "header" and key["schema"]["maxLength"] == 200
    assert post["responses"]["201"]["content"]["application/json"]["schema"]["$ref"].endswith("ReportAccepted")
