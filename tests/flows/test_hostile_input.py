"""Hostile input over HTTP against the whole system: a bilingual 4xx, read no further than the cap,
nothing written, nothing published."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from sqlmodel import Session, func, select

from proto.subjects import Subjects
from services.common.outbox import OutboxEntry
from tests.flows.conftest import System
from tests.flows.test_bad_input import _assert_error, _stream_messages
from tests.ingest import hostile

pytestmark = pytest.mark.nats

MB = 1024 * 1024


class Stream:
    """A chunked body of `total` bytes (no Content-Length) that counts how much was pulled."""

    def __init__(self, total: int, head: bytes = b"", tail: bytes = b"", chunk: int = 256 * 1024) -> None:
        self.total, self.head, self.tail, self.chunk, self.sent = total, head, tail, chunk, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.head
        block = b"a" * self.chunk
        while self.sent < self.total:
            self.sent += self.chunk
            yield block
        yield self.tail


def _outbox(system: System, name: str) -> int:
    with Session(system.app.state.apps[name].state.runtime.engine) as session:
        return int(session.exec(select(func.count()).select_from(OutboxEntry)).one())


async def _nothing_written(system: System) -> None:
    assert _outbox(system, "ingest") == 0
    assert _outbox(system, "registry") == 0
    assert (await system.client.get("/api/ingest/notices")).json() == []
    assert await _stream_messages(system, Subjects(system.subject_root).notice_parsed) == 0


@pytest.mark.parametrize(
    ("name", "build", "status", "code"),
    [
        ("styles-bomb.docx", hostile.styles_bomb, 422, "too_complex"),
        ("empty-paragraphs.docx", hostile.empty_paragraphs, 422, "too_complex"),
        ("lying-header.docx", hostile.lying_header, 422, None),
        ("billion-laughs.docx", hostile.billion_laughs, 422, "unsafe_xml"),
        ("deep.docx", hostile.deep_nesting, 422, "too_complex"),
        ("tasks.xlsx", hostile.xlsx_bomb, 415, "unsupported_type"),
        # Past the readers' own checks: the parse worker's memory cap refuses it.
        ("notice.pdf", hostile.pdf_bomb, 422, "too_complex"),
    ],
)
async def test_hostile_files_are_refused_and_leave_nothing(
    system: System, name: str, build: Callable[[], bytes], status: int, code: str | None
) -> None:
    response = await system.client.post(
        "/api/ingest/notices", files={"file": (name, build(), "application/octet-stream")}
    )
    _assert_error(response, status, code)
    await _nothing_written(system)


async def test_a_300_mb_chunked_directory_import_is_cut_off_at_5_mb(system: System) -> None:
    body = Stream(300 * MB, head=b"units:\n  - name: ")
    response = await system.client.post("/api/registry/directory/import", content=body)
    _assert_error(response, 413, "too_large")
    assert body.sent <= 5 * MB + body.chunk
    assert (await system.client.get("/api/registry/units")).json()["count"] == 0
    await _nothing_written(system)


async def test_a_chunked_upload_is_cut_off_past_the_upload_limit(system: System) -> None:
    boundary = "hostile-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\n'
        "Content-Type: text/plain\r\n\r\n"
    ).encode()
    body = Stream(64 * MB, head=head, tail=f"\r\n--{boundary}--\r\n".encode())
    response = await system.client.post(
        "/api/ingest/notices",
        content=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    _assert_error(response, 413, "too_large")
    assert body.sent <= 21 * MB + body.chunk
    await _nothing_written(system)


async def test_a_yaml_billion_laughs_directory_is_refused(system: System) -> None:
    levels = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"] + [
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)
    ]
    text = "\n".join(levels) + "\nunits:\n  - name: *a9\n"
    response = await system.client.post("/api/registry/directory/import", content=text.encode())
    _assert_error(response, 422, "bad_directory_file")
    assert (await system.client.get("/api/registry/units")).json()["count"] == 0


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/progress/tasks/t0-1/progress"),
        ("POST", "/api/progress/tokens"),
        ("PATCH", "/api/registry/tasks/t0-1"),
        ("POST", "/api/registry/units"),
    ],
)
async def test_deeply_nested_json_is_a_4xx(system: System, method: str, path: str) -> None:
    body = b"[" * 500_000 + b"]" * 500_000
    response = await system.client.request(
        method, path, content=body, headers={"Content-Type": "application/json", "If-Match": "*"}
    )
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"]["message_zh"]
