"""What units are called: the name a report, an event or a roll-up shows for a unit id."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from services.common.prepared import Prepared
from services.progress.models import ProgressUnit

_UNITS = ProgressUnit.__table__  # type: ignore[attr-defined]
_Q_NAMES = Prepared(
    select(_UNITS.c.unit_id, _UNITS.c.name, _UNITS.c.canonical).where(
        _UNITS.c.unit_id.in_(bindparam("ids", expanding=True))
    )
)


def unit_names(conn: Connection, unit_ids: Iterable[str]) -> dict[str, str]:
    """Unit id → its canonical name where the directory gave one, else the name as written."""
    ids = sorted(set(unit_ids))
    if not ids:
        return {}
    return {unit_id: canonical or name for unit_id, name, canonical in _Q_NAMES.rows(conn, {"ids": ids})}
