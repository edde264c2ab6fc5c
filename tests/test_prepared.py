"""Prepared statements give the same rows and write the same values as SQLAlchemy's own execution."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Engine
from sqlmodel import JSON, Field, SQLModel

from services.common.db import create_tables
from services.common.prepared import Prepared


class Sample(SQLModel, table=True):
    __tablename__ = "prepared_sample"

    sample_id: str = Field(primary_key=True, max_length=20)
    score: float = 0.0
    done: bool = False
    count: int = 7
    tags: list[str] = Field(default_factory=list, sa_type=JSON)
    at: datetime | None = None
    day: date | None = None
    created: datetime = Field(sa_column_kwargs={"default": lambda: datetime.now(UTC)})


_T = Sample.__table__  # type: ignore[attr-defined]
_SELECT = Prepared(select(_T).where(_T.c.sample_id.in_(bindparam("ids", expanding=True))).order_by(_T.c.sample_id))
_INSERT = Prepared(insert(_T))
_FIRST = Prepared(select(_T.c.sample_id).order_by(_T.c.sample_id).limit(bindparam("limit")))
_PAGE = Prepared(select(_T.c.sample_id).order_by(_T.c.sample_id).limit(bindparam("limit")).offset(bindparam("offset")))
_UPDATE = Prepared(update(_T).where(_T.c.sample_id == bindparam("k")).values(score=bindparam("score")))
AT = datetime(2026, 11, 25, 8, 30, 15, 123456, tzinfo=UTC)


def _rows(engine: Engine) -> list[dict[str, object]]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(_T).order_by(_T.c.sample_id)).mappings()]


@pytest.fixture
def engine(sql_engine: Engine) -> Engine:
    create_tables(sql_engine, [Sample])
    return sql_engine


def _row(sample_id: str, **values: object) -> dict[str, object]:
    return {
        "sample_id": sample_id,
        "score": 1.5,
        "done": True,
        "tags": ["甲", "乙"],
        "at": AT,
        "day": date(2026, 12, 31),
        "created": AT,
    } | values


def test_rows_read_back_as_sqlalchemy_reads_them(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(insert(_T), [_row("a"), _row("b", tags=[], done=False, at=None, day=None)])
    with engine.connect() as conn:
        got = _SELECT.mappings(conn, {"ids": ["b", "a", "zz"]})
        assert got == [r for r in _rows(engine)]
        assert got[0]["tags"] == ["甲", "乙"] and got[0]["done"] is True and got[0]["at"] == AT
        assert _SELECT.rows(conn, {"ids": ["a"]}) == [tuple(got[0].values())]
        assert _SELECT.rows(conn, {"ids": []}) == []
        # Five to eight ids share the plan of eight binds, the last id repeated; whichever comes
        # first, a later, longer list loses none of its ids.
        assert _SELECT.mappings(conn, {"ids": ["a", "x", "y", "z", "q"]}) == got[:1]
        assert _SELECT.mappings(conn, {"ids": ["x", "y", "z", "q", "r", "s", "b"]}) == got[1:]


def test_many_rows_written_with_json_lists_and_scalar_defaults(engine: Engine) -> None:
    rows = [_row(f"s{n}", tags=[str(i) for i in range(n)]) for n in range(5)]
    with engine.begin() as conn:
        _INSERT.run(conn, rows)
        _UPDATE.run(conn, [{"k": "s1", "score": 9.0}, {"k": "s2", "score": -1.0}])
        _UPDATE.run(conn, {"k": "s3", "score": 3.25})
    written = _rows(engine)
    assert [r["tags"] for r in written] == [[str(i) for i in range(n)] for n in range(5)]
    assert [r["score"] for r in written] == [1.5, 9.0, -1.0, 3.25, 1.5]
    assert {r["count"] for r in written} == {7}  # the column's scalar default, as SQLAlchemy fills it
    assert {r["at"] for r in written} == {AT}


def test_limits_and_offsets_are_bound(engine: Engine) -> None:
    with engine.begin() as conn:
        _INSERT.run(conn, [_row(f"p{n}") for n in range(5)])
        assert _FIRST.rows(conn, {"limit": 2}) == [("p0",), ("p1",)]  # SQLite adds its own OFFSET 0
        assert _PAGE.rows(conn, {"limit": 2, "offset": 3}) == [("p3",), ("p4",)]


def test_a_failed_transaction_leaves_nothing(engine: Engine) -> None:
    with pytest.raises(Exception), engine.begin() as conn:  # noqa: B017 - each driver has its own IntegrityError
        _INSERT.run(conn, [_row("dup"), _row("dup")])
    assert _rows(engine) == []


def test_a_default_it_cannot_compute_is_refused(engine: Engine) -> None:
    row = _row("x")
    del row["created"]  # its default is a function: SQLAlchemy's own execution must fill it
    with engine.begin() as conn, pytest.raises(ValueError, match="default of created"):
        _INSERT.run(conn, [row])


def test_an_empty_list_runs_nothing(engine: Engine) -> None:
    with engine.begin() as conn:
        _INSERT.run(conn, [])
    assert _rows(engine) == []
