"""Streams on a real nats-server: created with the settings' limits, never reset by a later start."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client
from nats.js.api import StorageType

from proto.subjects import Subjects
from services.common.natsserver import NatsServer
from services.common.streams import DAY_S, StreamLimits, ensure_streams
from services.registry.app import create_runtime
from services.registry.settings import RegistrySettings

pytestmark = pytest.mark.nats


@pytest.fixture
async def conn(nats_server: NatsServer) -> AsyncIterator[Client]:
    client = await nats.connect(nats_server.url)
    yield client
    await client.close()


def _settings(nats_server: NatsServer, subject_root: str, tmp_path: Path) -> RegistrySettings:
    return RegistrySettings(
        nats_url=nats_server.url,
        subject_root=subject_root,
        database_url=f"sqlite:///{tmp_path / 'registry.db'}",
        stream_max_age_days=30,
        dlq_max_age_days=400,
        stream_max_bytes=8 * 1024 * 1024,
    )


async def test_a_new_stream_gets_the_configured_limits(
    conn: Client, nats_server: NatsServer, subject_root: str, tmp_path: Path
) -> None:
    runtime = create_runtime(_settings(nats_server, subject_root, tmp_path))
    async with runtime.lifespan():
        pass
    js, prefix = conn.jetstream(), subject_root.upper()
    task = (await js.stream_info(f"{prefix}_TASK")).config
    assert task.max_age == 30 * DAY_S
    assert task.max_bytes == 8 * 1024 * 1024
    assert (task.storage, task.num_replicas, task.duplicate_window) == (StorageType.FILE, 1, 120)
    dlq = (await js.stream_info(f"{prefix}_DLQ")).config
    assert dlq.max_age == 400 * DAY_S
    token = (await js.stream_info(f"{prefix}_TOKEN")).config
    assert (token.max_age, token.max_bytes, token.max_msgs_per_subject) == (0, -1, 1)  # every live token, for ever


async def test_a_stream_an_operator_changed_keeps_its_limits_after_a_restart(
    conn: Client, nats_server: NatsServer, subject_root: str, tmp_path: Path
) -> None:
    settings = _settings(nats_server, subject_root, tmp_path)
    async with create_runtime(settings).lifespan():
        pass
    js, name = conn.jetstream(), f"{subject_root.upper()}_TASK"
    edited = dataclasses.replace((await js.stream_info(name)).config, max_age=7 * DAY_S, max_bytes=-1)
    await js.update_stream(edited)  # as `nats stream edit` would
    async with create_runtime(settings).lifespan():  # the registry publishes to (owns) this stream
        pass
    after = (await js.stream_info(name)).config
    assert (after.max_age, after.max_bytes) == (7 * DAY_S, -1)


async def test_a_start_adds_the_subjects_a_new_version_needs_and_keeps_the_limits(
    conn: Client, subject_root: str
) -> None:
    subjects = Subjects(subject_root)
    js, name = conn.jetstream(), f"{subject_root.upper()}_PROGRESS"
    await js.add_stream(name=name, subjects=[f"{subject_root}.progress.>"], max_age=3 * DAY_S, duplicate_window=120)
    await ensure_streams(js, subjects, owned=set(), limits=StreamLimits())
    assert (await js.stream_info(name)).config.subjects == [f"{subject_root}.progress.>"]  # only its publisher updates
    await ensure_streams(js, subjects, owned={name}, limits=StreamLimits())
    after = (await js.stream_info(name)).config
    assert after.subjects == [f"{subject_root}.progress.>", f"{subject_root}.status.>"]
    assert after.max_age == 3 * DAY_S
