"""Alembic migrations of each service's database: run at start, by `luoshi migrate`, and by tests.

One environment (`services/common/alembic/env.py`) serves the four services; each service keeps its
revisions in `services/<service>/migrations/` and its version in its own table
(`alembic_version_<service>`), so even a database shared by services knows each one's version.
The connection is handed to the environment (`Config.attributes`), so a whole upgrade, stamp
included, is one transaction on PostgreSQL.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

from services.common.audit import AuditRecord
from services.common.identity import AuthToken
from services.common.inbox import InboxEntry
from services.common.outbox import OutboxEntry

COMMON_TABLES: list[type[SQLModel]] = [InboxEntry, OutboxEntry, AuthToken, AuditRecord]
ENVIRONMENT = Path(__file__).with_name("alembic")
SERVICES_DIR = Path(__file__).parent.parent
# The schema of the last version without migrations is this revision: a database made then by
# `create_all` (its tables, no version table) is stamped here and upgraded from it.
BASELINE = "0001"

# Server-side objects the models do not describe (the registry's FTS5 table and its shadow tables,
# the pg_trgm index): the migrations create them, so comparing with the models must not see them.
_NOT_MODELLED = ("registry_task_fts", "ix_registry_task_text_trgm")


def version_table(service: str) -> str:
    return f"alembic_version_{service}"


def revisions_dir(service: str) -> Path:
    return SERVICES_DIR / service / "migrations"


def metadata_of(tables: Sequence[type[SQLModel]]) -> MetaData:
    """Only these tables: `SQLModel.metadata` holds every imported service's."""
    metadata = MetaData()
    for model in tables:
        model.__table__.to_metadata(metadata)  # type: ignore[attr-defined]
    return metadata


def _scripts(service: str) -> Config:
    """The service's revisions under the shared environment: no alembic.ini, the package knows where."""
    cfg = Config()
    cfg.set_main_option("script_location", str(ENVIRONMENT))
    cfg.set_main_option("version_locations", str(revisions_dir(service)))
    cfg.set_main_option("path_separator", "os")
    return cfg


def config(service: str, connection: Connection, tables: Sequence[type[SQLModel]]) -> Config:
    cfg = _scripts(service)
    cfg.attributes.update(connection=connection, metadata=metadata_of(tables), version_table=version_table(service))
    return cfg


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    return not (name or "").startswith(_NOT_MODELLED)


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Render the models' column types as plain SQLAlchemy ones, so revisions import no app code.

    A revision is history: it must keep meaning what it meant when the models change.
    """
    if type_ != "type":
        return False
    name = type(obj).__name__
    if name == "AutoString":
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    if name == "UtcDateTime":
        return "sa.DateTime()"
    if name == "UTCDateTime":  # SQLModel's own, for plain `datetime` fields: timestamptz on PostgreSQL
        return "sa.DateTime(timezone=True)"
    return False


def _lock(connection: Connection, service: str) -> None:
    # Two replicas starting at once on PostgreSQL: the second waits, then finds the work done.
    if connection.dialect.name == "postgresql":
        key = zlib.crc32(f"luoshi-migrate-{service}".encode())
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def _predates_migrations(connection: Connection, service: str, tables: Sequence[type[SQLModel]]) -> bool:
    """Tables of this service present, but no version table: made by `create_all` before migrations."""
    names = set(inspect(connection).get_table_names())
    own = {m.__tablename__ for m in tables} - {m.__tablename__ for m in COMMON_TABLES}  # type: ignore[attr-defined]
    return version_table(service) not in names and bool(own & names)


def upgrade(engine: Engine, service: str, tables: Sequence[type[SQLModel]], revision: str = "head") -> None:
    """Bring the service's database to `revision`, stamping a pre-migration database first."""
    with engine.begin() as connection:
        _lock(connection, service)
        cfg = config(service, connection, tables)
        if _predates_migrations(connection, service, tables):
            command.stamp(cfg, BASELINE)
        command.upgrade(cfg, revision)


def current(engine: Engine, service: str) -> str | None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": version_table(service)})
        return context.get_current_revision()


def head(service: str) -> str | None:
    return ScriptDirectory.from_config(_scripts(service)).get_current_head()


def differences(engine: Engine, service: str, tables: Sequence[type[SQLModel]]) -> list[Any]:
    """What autogenerate would write: the database's schema against the models (empty when in step)."""
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "version_table": version_table(service),
                "compare_type": True,
                "include_object": include_object,
            },
        )
        return compare_metadata(context, metadata_of(tables))


def make_revision(engine: Engine, service: str, tables: Sequence[type[SQLModel]], message: str) -> Path:
    """Write the next revision of the service, autogenerated against a database at head; read it before committing."""
    upgrade(engine, service, tables)
    # Revision ids start with their number ("0004_delivery" from a branch merged later counts as 4).
    number = int(re.match(r"\d*", head(service) or "").group() or "0") + 1  # type: ignore[union-attr]
    with engine.begin() as connection:
        script = command.revision(
            config(service, connection, tables), message=message, autogenerate=True, rev_id=f"{number:04d}"
        )
    if script is None or isinstance(script, list):
        raise RuntimeError(f"alembic wrote no single revision for {service}")
    return Path(script.path)
