"""A handler that fails is retried with back-off: a database outage dead-letters nothing."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import nats
import psycopg
import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from proto.notice import NoticeParsed
from proto.subjects import Subjects
from services.common.messaging import retry_delay
from services.common.natsserver import NatsServer
from services.ingest.parsing.api import parse_document
from services.registry.app import create_runtime
from services.registry.models import RegistryTask
from services.registry.settings import RegistrySettings
from tests.helpers import eventually

EXAMPLE = resources.files("services.ingest").joinpath("examples", "example-notice.txt").read_text(encoding="utf-8")
OUTAGE_S = 12.0
NOTICES = 3


def test_each_redelivery_waits_the_next_step_and_the_last_step_repeats() -> None:
    backoff = [1, 5, 15]
    assert [retry_delay(backoff, n) for n in (1, 2, 3, 4, 9)] == [1, 5, 15, 15, 15]


def _notice(n: int) -> NoticeParsed:
    text = EXAMPLE.replace("示政发〔2026〕1号", f"示政发〔2026〕{n + 10}号")
    return NoticeParsed(
        source="test",
        notice_id=f"outage{n:010d}",
        sha256=f"{n:064d}",
        filename="x.txt",
        parse=parse_document(text.encode(), "x.txt"),
    )


@contextmanager
def _database_down(admin_url: str, database_url: str) -> Iterator[None]:
    """The service's PostgreSQL database refuses connections and loses those it had, as in a fail-over."""
    name = database_url.rsplit("/", 1)[1]
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        try:
            yield
        finally:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')


@pytest.mark.nats
@pytest.mark.postgres
async def test_a_database_outage_of_seconds_dead_letters_nothing(
    nats_server: NatsServer,
    subject_root: str,
    pg_admin_url: str,
    pg_databases: dict[str, str],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    subjects = Subjects(subject_root)
    settings = RegistrySettings(
        nats_url=nats_server.url,
        subject_root=subject_root,
        database_url=pg_databases["registry"],
        data_dir=tmp_path,
        # Shorter steps than the default's minutes, still 15.5 s in all: longer than the outage.
        retry_backoff_s=[0.5, 1, 2, 4, 8],
        max_deliver=8,
    )
    runtime = create_runtime(settings)
    conn = await nats.connect(nats_server.url)
    caplog.set_level(logging.WARNING, logger="services.common.messaging")
    try:
        async with runtime.lifespan():
            js = conn.jetstream()
            with _database_down(pg_admin_url, pg_databases["registry"]):
                for n in range(NOTICES):
                    event = _notice(n)
                    await js.publish(
                        subjects.notice_parsed,
                        event.model_dump_json().encode(),
                        headers={"Nats-Msg-Id": event.event_id},
                    )
                await asyncio.sleep(OUTAGE_S)
                failures = [r for r in caplog.records if "registry-notice-parsed failed" in r.getMessage()]
                assert len(failures) >= 2 * NOTICES  # each event met the outage more than once

            async def all_registered() -> bool:
                with Session(runtime.engine) as session:
                    return session.exec(select(func.count()).select_from(RegistryTask)).one() == 5 * NOTICES

            await eventually(all_registered, timeout=30, what="every notice's tasks after the outage")
            dlq = await js.stream_info(f"{subject_root.upper()}_DLQ")
            assert dlq.state.messages == 0
    finally:
        await conn.close()


@pytest.mark.nats
async def test_a_start_gives_an_existing_durable_the_configured_deliveries(
    nats_server: NatsServer, subject_root: str, tmp_path: Path
) -> None:
    """The durables of an older version (5 deliveries) would stop before the handler's last try."""

    def settings(max_deliver: int) -> RegistrySettings:
        database = f"sqlite:///{tmp_path / 'registry.db'}"
        return RegistrySettings(
            nats_url=nats_server.url, subject_root=subject_root, database_url=database, max_deliver=max_deliver
        )

    durable = (f"{subject_root.upper()}_NOTICE", f"{subject_root}_registry-notice-parsed")
    conn = await nats.connect(nats_server.url)
    try:
        async with create_runtime(settings(5)).lifespan():
            assert (await conn.jetstream().consumer_info(*durable)).config.max_deliver == 6
        async with create_runtime(settings(8)).lifespan():
            assert (await conn.jetstream().consumer_info(*durable)).config.max_deliver == 9
    finally:
        await conn.close()
