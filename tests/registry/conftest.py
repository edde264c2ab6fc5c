"""Registry fixtures: real SQLite files (and PostgreSQL databases) holding the shared notices."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path

import nats
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from proto.notice import NoticeParsed, ParsedNotice
from proto.streams import stream_for
from proto.subjects import Subjects
from proto.task import TaskUpserted
from services.common.db import create_tables, make_engine
from services.common.inbox import InboxEntry
from services.common.outbox import OutboxEntry
from services.ingest.parsing.parser import parse_text
from services.registry.app import TABLES
from services.registry.directory_io import import_directory
from services.registry.versions import register_notice
from tests.shared import shared_notice

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
SUBJECTS = Subjects("test")
NOTICES = (
    "jining-2023-work-report-division",
    "yanzhou-2020-work-report-tasks",
    "yanzhou-2023-green-transition-tasks",
    "yanzhou-2025-work-report-tasks",
    "yanzhou-2026-work-report-tasks",
)
EXAMPLE_DIRECTORY = (
    resources.files("services.registry").joinpath("examples", "directory-yanzhou.yaml").read_text(encoding="utf-8")
)


@cache
def parsed(name: str) -> ParsedNotice:
    return parse_text(shared_notice(name).read_text(encoding="utf-8"))


def notice_event(parse: ParsedNotice, notice_id: str = "n000000000000001") -> NoticeParsed:
    return NoticeParsed(source="test", notice_id=notice_id, sha256="0" * 64, filename="n.txt", parse=parse)


def shared_event(name: str) -> NoticeParsed:
    return notice_event(parsed(name), notice_id=name[:16])


def new_engine(url: str) -> Engine:
    engine = make_engine(url)
    create_tables(engine, [InboxEntry, OutboxEntry, *TABLES])
    return engine


def load_shared(engine: Engine, *, directory: bool = True) -> None:
    with Session(engine, expire_on_commit=False) as session:
        if directory:
            import_directory(session, SUBJECTS, EXAMPLE_DIRECTORY, "yaml", now=NOW)
        for name in NOTICES:
            register_notice(session=session, subjects=SUBJECTS, event=shared_event(name), now=NOW)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = new_engine(f"sqlite:///{tmp_path / 'registry.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture(scope="session")
def shared_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The five shared notices and the example directory, registered once; tests copy the file."""
    path = tmp_path_factory.mktemp("registry-template") / "registry.db"
    engine = new_engine(f"sqlite:///{path}")
    load_shared(engine)
    engine.dispose()
    return path


@pytest.fixture
def shared_engine(shared_template: Path, tmp_path: Path) -> Iterator[Engine]:
    path = tmp_path / "shared.db"
    shutil.copy(shared_template, path)
    engine = make_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


@pytest.fixture
def shared_session(shared_engine: Engine) -> Iterator[Session]:
    with Session(shared_engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def pg_registry(pg_databases: dict[str, str]) -> Iterator[Callable[[], Engine]]:
    engines: list[Engine] = []

    def make() -> Engine:
        engine = new_engine(pg_databases["registry"])
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.dispose()


async def last_task_event(nats_url: str, root: str) -> TaskUpserted:
    """The last `task.upserted` on the stream of `root`, read straight from JetStream."""
    conn = await nats.connect(nats_url)
    try:
        subjects = Subjects(root)
        stream = stream_for(subjects, subjects.task_upserted).name
        msg = await conn.jetstream().get_last_msg(stream, subjects.task_upserted)
        return TaskUpserted.model_validate(json.loads(msg.data))
    finally:
        await conn.close()
