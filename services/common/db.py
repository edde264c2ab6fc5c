"""Engines and sessions: each service owns its database and creates only its own tables."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import orjson
from sqlalchemy import event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, SQLModel, create_engine


def _json_dumps(obj: object) -> str:
    # Chinese stays readable in the database and searchable with LIKE (orjson never escapes it).
    # orjson, not json: a report writes and reads several JSON columns per task, and json's
    # encoder and decoder were a tenth of the report writer's CPU. Non-string keys become strings,
    # as json.dumps makes them.
    return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS).decode()


_JSON = {"json_serializer": _json_dumps, "json_deserializer": orjson.loads}


def private_sqlite_file(database: str | None) -> None:
    """Create the SQLite file readable by its owner only, or make an existing one so.

    SQLite would create it under the umask (usually 0644: any local user could read the tokens'
    hashes, reports and audit), and it gives its -wal and -shm files the database file's mode,
    so creating the main file first covers them. Leftover -wal/-shm files of an older, looser
    database are tightened too.
    """
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.parent.is_dir():
        return  # SQLite's own error says it better
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        # Someone else's file we may write but not chmod keeps its mode rather than failing the start.
        with contextlib.suppress(FileNotFoundError, PermissionError):
            os.chmod(name, 0o600)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        # Enough pooled connections for every thread that may query at once (FastAPI's 40 worker
        # threads, asyncio's default executor): a SQLite connection is a file handle, and a
        # request waiting for a free one under load would wait out the pool timeout and fail.
        database = make_url(url).database
        in_memory = database in (None, "", ":memory:")
        private_sqlite_file(database)
        pool = {} if in_memory else {"pool_size": 50, "max_overflow": 20}
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **_JSON, **pool)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
            # WAL lets readers run beside the writer; FULL sync makes a commit survive power loss,
            # which the "never lose an acknowledged report" rule needs.
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, **_JSON)


def create_tables(engine: Engine, models: Sequence[type[SQLModel]]) -> None:
    tables = [m.__table__ for m in models]  # type: ignore[attr-defined]
    SQLModel.metadata.create_all(engine, tables=tables)


def ping(engine: Engine) -> bool:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


def insert_missing(session: Session, rows: Sequence[SQLModel]) -> None:
    """INSERT … ON CONFLICT DO NOTHING of these rows (all of one table), in primary-key order.

    Two transactions creating the same row (two events naming one new unit) both succeed: on
    PostgreSQL the second waits for the first and then does nothing, where a plain INSERT failed
    with a unique violation and left the event to redelivery. Key order keeps two transactions
    inserting several rows from deadlocking. Read the rows back with `session.get`.
    """
    if not rows:
        return
    table = type(rows[0]).__table__  # type: ignore[attr-defined]
    keys = [c.key for c in table.primary_key.columns]
    values = sorted(
        ({c.key: getattr(row, c.key) for c in table.columns} for row in rows),
        key=lambda v: tuple(v[k] for k in keys),
    )
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(dialect.insert(table).values(values).on_conflict_do_nothing())
