"""Migrations: every service's head matches its models, and upgrades keep the rows already stored."""

from __future__ import annotations

import re
import types
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import Column, Integer, MetaData, Table, event, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel
from sqlmodel import select as select_models

from services.common.db import create_tables, make_engine
from services.common.migrations import BASELINE, current, differences, head, upgrade, version_table
from services.common.natsserver import NatsServer
from services.gateway import create_gateway
from services.migrate_cli import SERVICES, service_runtime

ROWS = 3
# Tables no background work of a running service reads: the relay would send (then prune) made-up
# outbox rows, and the clock tick would judge made-up tasks.
PASSIVE = {"inbox", "ingest_notice", "registry_notice", "registry_audit", "progress_report", "notify_escalation"}
# Tables revision 2 drops, whose rows go with them (README: tokens before it are not carried over).
DROPPED = {"progress_token"}


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[type[SQLModel]]]:
    """Each service's tables exactly as its runtime holds them (the list its start migrates)."""
    folder = tmp_path_factory.mktemp("runtimes")
    found = {}
    for service in SERVICES:
        runtime = service_runtime(service, folder)
        found[service] = runtime.tables
        runtime.engine.dispose()
    return found


def _value(column: Column[Any], i: int) -> Any:
    kind = column.type.python_type
    if kind is bool:
        return i % 2 == 0
    if kind in (int, float):
        return kind(i)
    if kind is datetime:
        return datetime(2026, 3, 1, 9, i)  # naive UTC, as revision 1's plain TIMESTAMP columns hold
    if kind is date:
        return date(2026, 3, 1 + i)
    if kind is dict:
        return {"k": f"v{i}"}
    length = getattr(column.type, "length", None) or 50
    # The same value for a column name in every table, so foreign keys (task_id) find their row.
    return f"{column.name}-{i}"[:length]


def _stored_tables(engine: Engine, service: str) -> list[Table]:
    metadata = MetaData()
    metadata.reflect(engine)
    skip = {version_table(service)}
    return [t for t in metadata.sorted_tables if t.name not in skip and not t.name.startswith("registry_task_fts")]


def fill(engine: Engine, service: str, only: set[str] | None = None) -> dict[str, list[dict[str, Any]]]:
    """A few rows in every table (or `only` these) of the service's database, whatever its revision."""
    written: dict[str, list[dict[str, Any]]] = {}
    with engine.begin() as conn:
        for table in _stored_tables(engine, service):
            if only is not None and table.name not in only:
                continue
            rows = [{c.name: _value(c, i) for c in table.columns} for i in range(ROWS)]
            conn.execute(table.insert(), rows)
            written[table.name] = rows
    return written


def _plain(value: Any) -> Any:
    # The outbox's times become timestamptz on PostgreSQL: the same instant must come back.
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def read_back(engine: Engine, service: str, written: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict]]:
    stored = {t.name: t for t in _stored_tables(engine, service)}
    found = {}
    with engine.connect() as conn:
        for name, rows in written.items():
            if name in DROPPED:
                continue
            table = stored[name]
            columns = [table.c[c] for c in rows[0]]
            result = conn.execute(select(*columns).order_by(*table.primary_key.columns)).mappings()
            found[name] = [{k: _plain(v) for k, v in row.items()} for row in result]
    return found


def _shanghai_sessions(engine: Engine) -> None:
    """A PostgreSQL session zone other than UTC, so a conversion that used it would show."""
    if engine.dialect.name != "postgresql":
        return

    @event.listens_for(engine, "connect")
    def _zone(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        with dbapi_conn.cursor() as cur:
            cur.execute("SET TIME ZONE 'Asia/Shanghai'")
        dbapi_conn.commit()


@pytest.mark.parametrize("service", SERVICES)
def test_head_matches_the_models(sql_engine: Engine, service: str, tables: dict[str, list]) -> None:
    """Fails when a model changes without a migration: `luoshi migrate SERVICE --new "…"` writes one."""
    upgrade(sql_engine, service, tables[service])
    assert current(sql_engine, service) == head(service)
    assert differences(sql_engine, service, tables[service]) == []


@pytest.mark.parametrize("service", SERVICES)
def test_rows_survive_the_upgrade_from_the_first_revision(
    sql_engine: Engine, service: str, tables: dict[str, list]
) -> None:
    _shanghai_sessions(sql_engine)
    upgrade(sql_engine, service, tables[service], revision=BASELINE)
    written = fill(sql_engine, service)
    upgrade(sql_engine, service, tables[service])

    expected = {name: [{k: _plain(v) for k, v in row.items()} for row in rows] for name, rows in written.items()}
    assert read_back(sql_engine, service, written) == {k: v for k, v in expected.items() if k not in DROPPED}
    with Session(sql_engine) as session:  # and the models read the old rows
        for model in tables[service]:
            stored = session.exec(select_models(model)).all()
            assert len(stored) == (ROWS if model.__tablename__ in written else 0), model.__tablename__


@pytest.mark.postgres
@pytest.mark.parametrize("service", SERVICES)
def test_zoned_timestamps_of_a_newer_sqlmodel_are_kept_as_instants(
    pg_databases: dict[str, str], service: str, tables: dict[str, list]
) -> None:
    """`create_all` under SQLModel's own datetime type made every timestamp `timestamptz`."""
    sql_engine = make_engine(pg_databases[service])
    _shanghai_sessions(sql_engine)
    upgrade(sql_engine, service, tables[service], revision=BASELINE)
    written = fill(sql_engine, service)
    with sql_engine.begin() as conn:
        for table in _stored_tables(sql_engine, service):
            for column in table.columns:
                if column.type.python_type is datetime:
                    conn.exec_driver_sql(
                        f"ALTER TABLE {table.name} ALTER COLUMN {column.name} TYPE timestamptz "
                        f"USING {column.name} AT TIME ZONE 'UTC'"
                    )
    upgrade(sql_engine, service, tables[service])

    assert differences(sql_engine, service, tables[service]) == []
    expected = {name: [{k: _plain(v) for k, v in row.items()} for row in rows] for name, rows in written.items()}
    assert read_back(sql_engine, service, written) == {k: v for k, v in expected.items() if k not in DROPPED}
    sql_engine.dispose()


@pytest.mark.parametrize(
    ("service", "table", "column"),
    [("progress", "progress_report", "token_id"), ("notify", "notify_escalation", "unit_id")],
)
def test_added_columns_take_their_defaults(
    sql_engine: Engine, tables: dict[str, list], service: str, table: str, column: str
) -> None:
    upgrade(sql_engine, service, tables[service], revision=BASELINE)
    fill(sql_engine, service)
    upgrade(sql_engine, service, tables[service])
    stored = {t.name: t for t in _stored_tables(sql_engine, service)}
    with sql_engine.connect() as conn:
        assert set(conn.execute(select(stored[table].c[column])).scalars()) == {""}


@pytest.mark.parametrize("service", SERVICES)
def test_a_database_made_by_create_all_is_adopted(sql_engine: Engine, service: str, tables: dict[str, list]) -> None:
    """What every start did before migrations: tables, no version table; any version's tables upgrade."""
    create_tables(sql_engine, tables[service])
    upgrade(sql_engine, service, tables[service])
    assert current(sql_engine, service) == head(service)
    assert differences(sql_engine, service, tables[service]) == []


def _with_urgency(models: list[type[SQLModel]]) -> list[Any]:
    """Notify's tables with a column no revision adds: a model changed without a migration."""
    changed = []
    for model in models:
        table = model.__table__.to_metadata(MetaData())  # type: ignore[attr-defined]
        if table.name == "notify_escalation":
            table.append_column(Column("urgency", Integer, nullable=True))
        changed.append(types.SimpleNamespace(__tablename__=table.name, __table__=table))
    return changed


def test_a_model_change_without_a_migration_is_found(sql_engine: Engine, tables: dict[str, list]) -> None:
    upgrade(sql_engine, "notify", tables["notify"])
    changed = _with_urgency(tables["notify"])
    found = differences(sql_engine, "notify", changed)
    assert [(d[0], d[3].name) for d in found] == [("add_column", "urgency")]


def test_full_text_is_created_by_the_first_revision(sql_engine: Engine, tables: dict[str, list]) -> None:
    upgrade(sql_engine, "registry", tables["registry"], revision=BASELINE)
    fill(sql_engine, "registry")
    upgrade(sql_engine, "registry", tables["registry"])
    with sql_engine.connect() as conn:
        if sql_engine.dialect.name == "sqlite":
            query = "SELECT count(*) FROM registry_task_fts WHERE registry_task_fts MATCH '\"text-1\"'"
        else:
            query = "SELECT count(*) FROM pg_indexes WHERE indexname = 'ix_registry_task_text_trgm'"
        assert conn.exec_driver_sql(query).scalar() == 1


def test_migrate_command_upgrades_an_old_data_folder(tmp_path: Path, tables: dict[str, list]) -> None:
    from typer.testing import CliRunner

    from services.cli import app

    for service in SERVICES:
        engine = make_engine(f"sqlite:///{tmp_path / f'{service}.db'}")
        upgrade(engine, service, tables[service], revision=BASELINE)
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP TABLE {version_table(service)}")  # as the last version left it
        engine.dispose()
    result = CliRunner().invoke(app, ["migrate", "all", "--data", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for service in SERVICES:
        engine = make_engine(f"sqlite:///{tmp_path / f'{service}.db'}")
        assert current(engine, service) == head(service)
        engine.dispose()


@pytest.mark.nats
@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def test_services_upgrade_an_old_database_at_start(
    request: pytest.FixtureRequest,
    backend: str,
    tmp_path: Path,
    nats_server: NatsServer,
    subject_root: str,
    tables: dict[str, list],
) -> None:
    """Databases as the last version without migrations left them: the services' own start upgrades them."""
    if backend == "sqlite":
        urls = {s: f"sqlite:///{tmp_path / f'{s}.db'}" for s in SERVICES}
    else:
        urls = request.getfixturevalue("pg_databases")
    written = {}
    for service in SERVICES:
        engine = make_engine(urls[service])
        upgrade(engine, service, tables[service], revision=BASELINE)
        written[service] = fill(engine, service, only=PASSIVE)
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP TABLE {version_table(service)}")
        engine.dispose()

    app = create_gateway(
        nats_url=nats_server.url, data_dir=tmp_path, subject_root=subject_root, database_urls=dict(urls)
    )
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30):
        pass

    for service in SERVICES:
        engine = make_engine(urls[service])
        assert current(engine, service) == head(service)
        survived = read_back(engine, service, written[service])
        for name, rows in written[service].items():  # the running service may have added its own
            assert all({k: _plain(v) for k, v in row.items()} in survived[name] for row in rows), name
        engine.dispose()


def test_full_text_of_the_migrations_matches_create_all(tmp_path: Path, tables: dict[str, list]) -> None:
    """Test fixtures and benchmarks still make registry databases with `create_all` (its DDL listeners)."""
    schemas = []
    for how in ("migrated", "created"):
        engine = make_engine(f"sqlite:///{tmp_path / f'{how}.db'}")
        if how == "migrated":
            upgrade(engine, "registry", tables["registry"])
        else:
            create_tables(engine, tables["registry"])
        with engine.connect() as conn:
            query = "SELECT type, name, sql FROM sqlite_master WHERE name LIKE 'registry_task_fts%' ORDER BY name"
            schemas.append(conn.exec_driver_sql(query).all())
        engine.dispose()
    assert schemas[0] == schemas[1] and len(schemas[0]) >= 4


def test_a_new_revision_is_written_from_the_models(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tables: dict[str, list]
) -> None:
    """What `luoshi migrate SERVICE --new "…"` does, into a copy of the revisions folder."""
    import shutil

    from services.common import migrations

    folder = tmp_path / "revisions"
    shutil.copytree(migrations.revisions_dir("notify"), folder, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(migrations, "revisions_dir", lambda _service: folder)
    changed = _with_urgency(tables["notify"])
    engine = make_engine(f"sqlite:///{tmp_path / 'scratch.db'}")
    number = int(re.match(r"\d+", migrations.head("notify") or "0").group())  # type: ignore[union-attr]
    written = migrations.make_revision(engine, "notify", changed, "escalation urgency")
    assert written.name == f"{number + 1:04d}_escalation_urgency.py"
    assert "add_column(sa.Column('urgency', sa.Integer(), nullable=True))" in written.read_text()
    upgrade(engine, "notify", changed)
    assert differences(engine, "notify", changed) == []
    engine.dispose()
