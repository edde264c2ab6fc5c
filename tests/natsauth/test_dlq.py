"""`luoshi dlq` as the operator user, on a nats-server with the generated permissions."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from services.cli import app
from services.common.natsauth import durable_name, stream_of
from services.common.runtime import DeadLetter
from services.common.streams import ensure_streams
from tests.helpers import eventually
from tests.natsauth.conftest import AuthServer
from tests.natsauth.test_permissions import connect_as

pytestmark = pytest.mark.nats


async def _luoshi(auth: AuthServer, tmp_path: Path, *args: str) -> Result:
    # The command runs its own event loop, so it runs in a thread beside the test's.
    options = ["--nats-url", auth.url, "--root", auth.subjects.root, "--data", str(tmp_path)]
    return await asyncio.to_thread(CliRunner().invoke, app, ["dlq", *args, *options])


async def _dead_letters(auth: AuthServer) -> list[DeadLetter]:
    """What the registry gives up on: an event its handler kept failing on, and a poison payload."""
    subjects = auth.subjects
    failed = DeadLetter(
        source="registry",
        consumer="registry",
        subject=subjects.notice_parsed,
        payload=json.dumps({"event_id": "e-failed", "notice_id": "n1"}),
        error="OperationalError: the database was down",
    )
    poison = DeadLetter(
        source="registry",
        consumer="registry",
        subject=subjects.notice_parsed,
        payload="{}",
        error="invalid payload: []",
    )
    async with connect_as(auth, "registry") as s:
        assert s.nc is not None
        js = s.nc.jetstream()
        await ensure_streams(js, subjects, owned=set())
        for letter in (failed, poison):
            await js.publish(subjects.dead_letter("registry"), letter.model_dump_json().encode())
    return [failed, poison]


async def test_the_operator_lists_shows_and_replays_dead_letters(auth_nats: AuthServer, tmp_path: Path) -> None:
    failed, _poison = await _dead_letters(auth_nats)
    listed = await _luoshi(auth_nats, tmp_path, "list")
    assert listed.exit_code == 0, listed.output
    assert "2 条死信" in listed.output and "OperationalError" in listed.output, listed.output

    shown = await _luoshi(auth_nats, tmp_path, "show", "1")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["payload"] == {"event_id": "e-failed", "notice_id": "n1"}

    replayed = await _luoshi(auth_nats, tmp_path, "replay", "1", "2")
    assert replayed.exit_code == 0, replayed.output
    assert "1 条已重放" in replayed.output and "2 skipped" in replayed.output  # poison stays until fixed

    subjects = auth_nats.subjects
    async with connect_as(auth_nats, "registry") as s:  # the event reaches the registry's consumer again
        assert s.nc is not None
        js = s.nc.jetstream()
        sub = await js.pull_subscribe(
            subjects.notice_parsed,
            durable=durable_name(subjects, "registry-notice-parsed"),
            stream=stream_of(subjects, subjects.notice_parsed),
        )
        [msg] = await sub.fetch(1, timeout=5)
        assert msg.data == failed.payload.encode()
        assert msg.headers and msg.headers["Nats-Msg-Id"] == f"replay-{failed.event_id}"
        dlq = await js.stream_info(stream_of(subjects, subjects.dead_letter("registry")))
        assert dlq.state.messages == 1  # the poison letter

    again = await _luoshi(auth_nats, tmp_path, "replay", "1")
    assert again.exit_code == 2 and "no such dead letter" in again.output


async def test_the_operator_cannot_forge_dead_letters(auth_nats: AuthServer) -> None:
    await _dead_letters(auth_nats)
    async with connect_as(auth_nats, "operator") as s:
        assert s.nc is not None
        await s.nc.publish(auth_nats.subjects.dead_letter("registry"), b"{}")
        await s.nc.flush()
        await eventually(
            lambda: s.violation(f'publish to "{auth_nats.subjects.dead_letter("registry")}"'), what="a violation"
        )
