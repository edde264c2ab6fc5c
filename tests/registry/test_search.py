"""Queries on SQLite and PostgreSQL: unit (alias, id, group), leader, notice, chapter, due window, text."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from services.registry.directory import find_unit
from services.registry.search import TaskQuery, query_tasks
from tests.registry.conftest import load_shared

Y2025, Y2026 = "济兖政发〔2025〕1号", "济兖政发〔2026〕1号"


def _keys(session: Session, **filters) -> list[str]:  # type: ignore[no-untyped-def]
    rows, total = query_tasks(session=session, query=TaskQuery(limit=500, **filters))
    assert total == len(rows)
    return [r.key for r in rows]


def check_queries(session: Session) -> None:
    science = _keys(session, unit="区科技局")
    assert science and science == _keys(session, unit="区科学技术局")
    unit = find_unit(session, "区科学技术局")
    assert unit is not None and _keys(session, unit=unit.unit_id) == science
    hosted = _keys(session, unit="区科技局", role="host")
    assert set(hosted) < set(science) or set(hosted) == set(science)
    # Through groups: a town sees what 各镇街 must do; a county sees 各县（市、区）政府 tasks.
    town = set(_keys(session, unit="颜店镇"))
    assert set(_keys(session, unit="各镇街")) <= town
    assert {k for k in _keys(session, unit="兖州区") if k.startswith("济政发")}
    assert len(_keys(session, notice=Y2026)) == 39
    assert _keys(session, notice=Y2026, chapter="二")
    assert all(k.startswith(Y2026) for k in _keys(session, notice=Y2026, chapter="二"))
    late = _keys(session, notice=Y2025, due_after=date(2026, 1, 1))
    assert f"{Y2025}#1" in late and len(late) < 72
    assert len(_keys(session, notice=Y2025, due_before=date(2025, 12, 31))) == 72 - len(late)
    assert _keys(session, leader="石可清")
    # Full text: three characters and more through the index, shorter through LIKE.
    hits = _keys(session, q="高新技术企业")
    assert any(k.startswith(Y2026) for k in hits) and any(k.startswith("济兖政发〔2020〕") for k in hits)
    assert set(_keys(session, q="高企")) >= {f"{Y2025}#8", f"{Y2026}#4"}
    assert _keys(session, q="产业集群", notice=Y2026) == [f"{Y2026}#1"] or f"{Y2026}#1" in _keys(session, q="产业集群")
    assert _keys(session, q="100%_") == []
    page, total = query_tasks(session=session, query=TaskQuery(notice=Y2025, limit=10, offset=70))
    assert total == 72 and [t.number for t in page] == [71, 72]


def test_queries_on_sqlite(shared_session: Session) -> None:
    check_queries(shared_session)


@pytest.mark.postgres
def test_queries_on_postgres(pg_registry: Callable[[], Engine]) -> None:
    engine = pg_registry()
    load_shared(engine)
    with Session(engine) as session:
        check_queries(session)
