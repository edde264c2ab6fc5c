"""Every input a user can send, with bad values: a clear 4xx with a message, nothing written."""

from __future__ import annotations

import io
import zipfile
from importlib import resources

import nats
import pytest
from sqlmodel import Session, func, select

from proto.streams import stream_for
from proto.subjects import Subjects
from services.common.outbox import OutboxEntry
from services.progress.models import ProgressReport
from tests.flows.conftest import System
from tests.helpers import eventually
from tests.progress.support import bearer, office_token, unit_token

pytestmark = pytest.mark.nats

EXAMPLE = resources.files("services.ingest").joinpath("examples", "example-notice.txt").read_bytes()


def _assert_error(response, status: int, code: str | None = None) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["message_zh"] and error["message_en"]
    if code:
        assert error["code"] == code


def _runtime(system: System, name: str):  # type: ignore[no-untyped-def]
    return system.app.state.apps[name].state.runtime


def _outbox_count(system: System, name: str) -> int:
    with Session(_runtime(system, name).engine) as session:
        return int(session.exec(select(func.count()).select_from(OutboxEntry)).one())


async def _stream_messages(system: System, subject: str) -> int:
    conn = await nats.connect(system.nats_url)
    try:
        info = await conn.jetstream().stream_info(stream_for(Subjects(system.subject_root), subject).name)
        return int(info.state.messages)
    finally:
        await conn.close()


def _xlsx_like_garbage(truncate: bool) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("xl/workbook.xml", "<not really")
        zf.writestr("[Content_Types].xml", "<nor this")
    return buffer.getvalue()[:-10] if truncate else buffer.getvalue()


def _encrypted_ooxml() -> bytes:
    # What Office writes for a password-protected docx/xlsx: an OLE file holding EncryptedPackage.
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "EncryptedPackage".encode("utf-16-le") + bytes(512)


def _docx_like_garbage() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("word/document.xml", "<not really")
    return buffer.getvalue()[:-10]


@pytest.mark.parametrize(
    ("name", "payload", "status", "code"),
    [
        ("photo.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 100, 415, "unsupported_type"),
        ("notice.docx", _docx_like_garbage(), 422, "corrupt"),
        ("table.xlsx", _xlsx_like_garbage(truncate=True), 422, "corrupt"),
        ("table.xlsx", _xlsx_like_garbage(truncate=False), 422, "corrupt"),
        ("locked.xlsx", _encrypted_ooxml(), 422, "encrypted"),
        ("notice.pdf", b"%PDF-1.7\n garbage without objects", 422, None),
        ("notice.txt", "这是一段没有任何编号任务的文字。".encode(), 422, "no_tasks"),
        ("empty.txt", b"", 422, None),
    ],
)
async def test_rejected_uploads_write_and_publish_nothing(
    system: System, name: str, payload: bytes, status: int, code: str | None
) -> None:
    subjects = Subjects(system.subject_root)
    before = await _stream_messages(system, subjects.notice_parsed)
    response = await system.client.post(
        "/api/ingest/notices", files={"file": (name, payload, "application/octet-stream")}
    )
    _assert_error(response, status, code)
    assert _outbox_count(system, "ingest") == 0
    assert await _stream_messages(system, subjects.notice_parsed) == before
    assert (await system.client.get("/api/ingest/notices")).json() == []


async def test_upload_over_the_size_limit_is_413(system: System) -> None:
    runtime = _runtime(system, "ingest")
    limit = runtime.settings.max_upload_bytes
    runtime.settings.max_upload_bytes = 1024
    try:
        response = await system.client.post(
            "/api/ingest/notices", files={"file": ("big.txt", EXAMPLE * 2, "text/plain")}
        )
    finally:
        runtime.settings.max_upload_bytes = limit
    _assert_error(response, 413, "too_large")
    assert _outbox_count(system, "ingest") == 0


async def test_upload_without_a_file_field_is_422(system: System) -> None:
    _assert_error(await system.client.post("/api/ingest/notices", data={"other": "x"}), 422, "invalid_request")


async def test_unknown_notice_is_404(system: System) -> None:
    _assert_error(await system.client.get("/api/ingest/notices/nope"), 404, "notice_not_found")


async def _a_task(system: System) -> dict:  # type: ignore[type-arg]
    upload = await system.client.post("/api/ingest/notices", files={"file": ("example.txt", EXAMPLE, "text/plain")})
    assert upload.status_code == 202

    async def first_task() -> dict | None:  # type: ignore[type-arg]
        body = (await system.client.get("/api/registry/tasks", params={"limit": 1})).json()
        if not body["data"]:
            return None
        task = body["data"][0]
        known = await system.client.get(f"/api/progress/tasks/{task['task_id']}/status")
        return task if known.status_code == 200 else None

    return await eventually(first_task, what="a task known to progress")


def _reports(system: System) -> int:
    with Session(_runtime(system, "progress").engine) as session:
        return int(session.exec(select(func.count()).select_from(ProgressReport)).one())


OTHER_UNIT = "县人力资源和社会保障局"  # hosts task 3 of the example, not task 1


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"percent": 150}, 422, "invalid_request"),
        ({"percent": -1}, 422, "invalid_request"),
        ({"percent": "很多"}, 422, "invalid_request"),
        ({"narrative": "没有完成率"}, 422, "invalid_request"),
        ({"percent": 10, "unit": "县工业和信息化局"}, 422, "invalid_request"),
        ({"percent": 10, "quantities": {"7": 3}}, 422, "unknown_quantity"),
        ({"percent": 10, "quantities": {"first": 3}}, 422, "unknown_quantity"),
        ({"percent": 10, "quantities": {"0": -3}}, 422, "invalid_request"),
        ({"percent": 10, "period": "2026年3月"}, 422, "period_invalid"),
        ({"percent": 10, "period": "2027-01"}, 422, "period_in_future"),
        # Under the 1 MiB body cap, which answers a larger body with the generic too_large first.
        ({"percent": 10, "narrative": "进" * 100_000}, 413, "narrative_too_long"),
    ],
)
async def test_bad_reports_are_refused_and_record_nothing(system: System, body: dict, status: int, code: str) -> None:  # type: ignore[type-arg]
    task = await _a_task(system)
    token = await unit_token(system.client, (await office_token(system.app)), task["host_units"][0]["name"])
    before = _reports(system)
    response = await system.client.post(
        f"/api/progress/tasks/{task['task_id']}/progress", json=body, headers=bearer(token)
    )
    _assert_error(response, status, code)
    assert _reports(system) == before


async def test_reports_need_the_token_of_a_responsible_unit(system: System) -> None:
    task = await _a_task(system)
    office = await office_token(system.app)
    other = await unit_token(system.client, office, OTHER_UNIT)
    url = f"/api/progress/tasks/{task['task_id']}/progress"
    before = _reports(system)
    _assert_error(await system.anonymous.post(url, json={"percent": 10}), 401, "token_missing")
    _assert_error(await system.client.post(url, json={"percent": 10}, headers=bearer("lsp_x_y")), 401, "token_invalid")
    basic = {"Authorization": "Basic dXNlcjpwYXNz"}
    _assert_error(await system.client.post(url, json={"percent": 10}, headers=basic), 401, "token_missing")
    _assert_error(
        await system.client.post(url, json={"percent": 10}, headers=bearer(other)), 403, "unit_not_responsible"
    )
    _assert_error(await system.client.post(url, json={"percent": 10}, headers=bearer(office)), 403, "role_forbidden")
    assert _reports(system) == before


async def test_malformed_json_and_unknown_task(system: System) -> None:
    task = await _a_task(system)
    token = await unit_token(system.client, (await office_token(system.app)), task["host_units"][0]["name"])
    before = _reports(system)
    malformed = await system.client.post(
        f"/api/progress/tasks/{task['task_id']}/progress",
        content=b"{percent: 1",
        headers={"content-type": "application/json", **bearer(token)},
    )
    _assert_error(malformed, 422, "invalid_request")
    unknown = await system.client.post(
        "/api/progress/tasks/t-none-1/progress", json={"percent": 1}, headers=bearer(token)
    )
    _assert_error(unknown, 404, "task_not_found")
    _assert_error(await system.client.get("/api/progress/tasks/t-none-1/status"), 404, "task_not_found")
    assert _reports(system) == before


async def test_idempotency_key_reused_for_another_task_is_409(system: System) -> None:
    await _a_task(system)
    tasks = (await system.client.get("/api/registry/tasks")).json()["data"]
    first, second = tasks[0], tasks[1]
    token = await unit_token(system.client, (await office_token(system.app)), first["host_units"][0]["name"])
    ok = await system.client.post(
        f"/api/progress/tasks/{first['task_id']}/progress",
        json={"percent": 5},
        headers=bearer(token, idempotency_key="same"),
    )
    assert ok.status_code == 201, ok.text
    before = _reports(system)
    clash = await system.client.post(
        f"/api/progress/tasks/{second['task_id']}/progress",
        json={"percent": 5},
        headers=bearer(token, idempotency_key="same"),
    )
    _assert_error(clash, 409, "idempotency_key_reused")
    changed = await system.client.post(
        f"/api/progress/tasks/{first['task_id']}/progress",
        json={"percent": 6},
        headers=bearer(token, idempotency_key="same"),
    )
    _assert_error(changed, 409, "idempotency_key_reused")
    too_long = await system.client.post(
        f"/api/progress/tasks/{first['task_id']}/progress",
        json={"percent": 7},
        headers=bearer(token, idempotency_key="k" * 201),
    )
    _assert_error(too_long, 422, "idempotency_key_too_long")
    assert "200" in too_long.json()["error"]["message_zh"]
    assert _reports(system) == before


async def test_registry_query_bounds(system: System) -> None:
    _assert_error(await system.client.get("/api/registry/tasks", params={"limit": 0}), 422, "invalid_request")
    _assert_error(await system.client.get("/api/registry/tasks", params={"offset": -1}), 422, "invalid_request")
    _assert_error(await system.client.get("/api/registry/tasks/t-missing-9"), 404, "task_not_found")


async def test_escalation_ack_bad_input(system: System) -> None:
    _assert_error(
        await system.client.post("/api/notify/escalations/none/ack", json={"by": "王明"}), 404, "escalation_not_found"
    )
    _assert_error(
        await system.client.post("/api/notify/escalations/none/ack", json={"by": "王" * 101}), 422, "invalid_request"
    )
    _assert_error(await system.client.get("/api/notify/escalations", params={"limit": 9999}), 422, "invalid_request")
