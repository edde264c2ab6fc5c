"""Timestamp columns that store UTC and hand back aware datetimes, on SQLite and PostgreSQL alike.

The columns stay plain `TIMESTAMP` (naive), holding UTC: tables made before this type keep
working without a migration, and PostgreSQL's session `TimeZone` never shifts a value, as it
would when an aware datetime is cast to `timestamp without time zone`. SQLite keeps no zone at
all, so the zone is put back here, at read, once for every service; no caller has to guess
whether a datetime from the database is naive.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if isinstance(value, datetime) and value.tzinfo is not None:
            return value.astimezone(UTC).replace(tzinfo=None)
        return value  # naive: already UTC, as every clock here gives

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if isinstance(value, datetime) and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value
