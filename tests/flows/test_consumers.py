"""Consumers on a real JetStream: redelivered events change nothing; poison goes to dead letters."""

from __future__ import annotations

import asyncio
import json
from importlib import resources

import nats
import pytest

from proto.notice import NoticeParsed
from proto.streams import stream_for
from proto.subjects import Subjects
from services.ingest.parsing.api import parse_document
from tests.flows.conftest import System
from tests.helpers import eventually

pytestmark = pytest.mark.nats

EXAMPLE = resources.files("services.ingest").joinpath("examples", "example-notice.txt").read_bytes()


async def _messages(conn: nats.NATS, subjects: Subjects, subject: str) -> int:
    info = await conn.jetstream().stream_info(stream_for(subjects, subject).name)
    return int(info.state.messages)


async def test_a_duplicated_event_is_applied_once(system: System) -> None:
    subjects = Subjects(system.subject_root)
    event = NoticeParsed(
        source="test",
        notice_id="dup0000000000001",
        sha256="0" * 64,
        filename="x.txt",
        parse=parse_document(EXAMPLE, "x.txt"),
    )
    conn = await nats.connect(system.nats_url)
    try:
        js = conn.jetstream()
        # Different Nats-Msg-Ids defeat JetStream's de-duplication, so only the inbox can protect.
        for n in range(3):
            await js.publish(
                subjects.notice_parsed,
                event.model_dump_json().encode(),
                headers={"Nats-Msg-Id": f"{event.event_id}-{n}"},
            )

        async def five_tasks() -> bool:
            body = (await system.client.get("/api/registry/tasks", params={"notice": "dup0000000000001"})).json()
            return body["count"] == 5

        await eventually(five_tasks, what="the tasks of the duplicated notice")
        await asyncio.sleep(1.0)
        assert await _messages(conn, subjects, subjects.task_upserted) == 5
    finally:
        await conn.close()


async def test_a_poison_event_goes_to_the_dead_letters_and_does_not_block(system: System) -> None:
    subjects = Subjects(system.subject_root)
    conn = await nats.connect(system.nats_url)
    letters: list[dict[str, object]] = []

    async def on_letter(msg: nats.aio.msg.Msg) -> None:
        letters.append(json.loads(msg.data))

    await conn.subscribe(subjects.dead_letter("registry"), cb=on_letter)
    try:
        await conn.jetstream().publish(
            subjects.notice_parsed, b'{"not": "a notice"}', headers={"Nats-Msg-Id": "poison-1"}
        )
        await eventually(lambda: _truthy(letters), what="a dead letter")
        assert letters[0]["subject"] == subjects.notice_parsed
        assert "invalid payload" in str(letters[0]["error"])
        other = EXAMPLE.decode().replace("示政发〔2026〕1号", "示政发〔2026〕2号").encode()
        upload = await system.client.post("/api/ingest/notices", files={"file": ("e.txt", other, "text/plain")})
        assert upload.status_code == 202

        async def registered() -> bool:
            body = (
                await system.client.get("/api/registry/tasks", params={"notice": upload.json()["notice_id"]})
            ).json()
            return body["count"] == 5

        await eventually(registered, what="the consumer to go on after the poison event")
    finally:
        await conn.close()


async def _truthy(items: list[dict[str, object]]) -> bool:
    return bool(items)
