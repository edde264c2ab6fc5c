"""Fixtures that start real parts: a nats-server on a free port, SQLite files, PostgreSQL."""

from __future__ import annotations

import io
import logging
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import Engine

from services.common.db import make_engine
from services.common.natsserver import NatsServer, free_port
from tests.shared import MISSING, shared_location, shared_root

PG_ADMIN_URL = os.environ.get("LUOSHI_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return shared_root()


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    """One real nats-server with JetStream for the session; tests isolate by subject root."""
    store = tmp_path_factory.mktemp("nats")
    server = NatsServer(free_port(), store, log_file=store / "nats.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def subject_root() -> str:
    """A fresh subject and stream namespace per test, so tests never see each other's events."""
    return f"t{uuid.uuid4().hex[:10]}"


def _pg_available() -> bool:
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    if not _pg_available():
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required under CI=true but {PG_ADMIN_URL} is not reachable")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}; these tests run in CI")
    return PG_ADMIN_URL


@contextmanager
def _fresh_pg_databases(admin_url: str, names: list[str]) -> Iterator[list[str]]:
    """Create these PostgreSQL databases; yield their SQLAlchemy URLs; drop them afterwards."""
    base = admin_url.rsplit("/", 1)[0]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        for name in names:
            conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield [f"postgresql+psycopg://{base.split('://', 1)[1]}/{name}" for name in names]
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            for name in names:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_databases(pg_admin_url: str) -> Iterator[dict[str, str]]:
    """One fresh PostgreSQL database per service (database-per-service), dropped afterwards."""
    suffix = uuid.uuid4().hex[:8]
    services = ("ingest", "registry", "progress", "notify")
    with _fresh_pg_databases(pg_admin_url, [f"luoshi_test_{svc}_{suffix}" for svc in services]) as urls:
        yield dict(zip(services, urls, strict=True))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def sql_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database on each backend: a SQLite file, then a fresh PostgreSQL database."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'test.db'}")
        yield engine
        engine.dispose()
        return
    admin = request.getfixturevalue("pg_admin_url")
    with _fresh_pg_databases(admin, [f"luoshi_test_{uuid.uuid4().hex[:12]}"]) as [url]:
        engine = make_engine(url)
        yield engine
        engine.dispose()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
    """Report every skip for want of the shared notices at one place, so `-ra` lists it once.

    A skip raised inside a fixture is reported at each test's own line, which would list the one
    reason once per test.
    """
    report = yield
    if report.skipped and isinstance(report.longrepr, tuple) and report.longrepr[2].endswith(MISSING):
        report.longrepr = (shared_location[0], shared_location[1], report.longrepr[2])
    return report


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """What Luoshi's log configuration writes as JSON lines, captured for the test to read."""
    from services.common import logs

    stream = io.StringIO()
    level = logging.getLogger().level
    handler = logs.configure(logs.LogSettings(level="INFO"), stream=stream, json_lines=True)
    try:
        yield stream
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger().setLevel(level)
