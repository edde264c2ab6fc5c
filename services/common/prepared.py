"""Core statements compiled once per dialect and run straight on the DBAPI cursor, for hot paths.

A report batch runs about ten statements. Through `Connection.execute` each costs ~30-40 µs of
Python before the database sees it (cache-key lookup, re-rendering every expanding `IN`, an
execution context, a result object), against ~6 µs for the DBAPI call itself; at moderate load,
when batches hold a few reports, that was about half the writer's CPU (one report per batch:
729 → 378 µs to record it, measured here). A `Prepared` statement keeps SQLAlchemy for what it
is good at (the SQL of each dialect, its bind and result type processing, decided once per plan)
and skips the rest. It runs on the caller's connection, inside the caller's transaction.

What it refuses rather than gets subtly wrong: a statement whose missing columns need a computed
(non-scalar) default. Nothing here is used where SQLAlchemy's events or ORM objects matter.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql import ClauseElement

Processor = Callable[[Any], Any] | None
_MAX_CACHED_BINDS = 1024


def _bucket(length: int) -> int:
    """The number of binds a list of `length` gets: a power of two, the last value repeated.

    `x IN (a, b, c, c)` means `x IN (a, b, c)`; so a batch's varying list lengths make a few
    plans (nine up to 256), not one per length or per pair of lengths.
    """
    return 0 if length == 0 else 1 << (length - 1).bit_length()


@dataclass
class _Plan:
    sql: str
    # Where each bind's value comes from: the parameter's key, and its place when it is a list
    # expanded for `IN`; a fixed value (a column's scalar default) has key None.
    sources: tuple[tuple[str | None, int | None, Any], ...]
    names: tuple[str, ...]
    processors: tuple[Processor, ...]
    positional: bool
    types: tuple[Any, ...]  # of the selected columns
    # Each column's result processor, decided at the first run: some depend on the type code the
    # driver reports (PostgreSQL's numerics), as they do in SQLAlchemy.
    results: tuple[Processor, ...] | None = None


class Prepared:
    def __init__(self, statement: ClauseElement) -> None:
        self._statement = statement
        self._plans: dict[tuple[Any, ...], _Plan] = {}
        # The lists expanded for `IN`; any other list (a JSON value) is bound as it is.
        self._expanding = tuple(sorted({b.key for b in statement.compile().binds.values() if b.expanding}))
        self._keys = [c.key for c in getattr(statement, "selected_columns", ())]

    def rows(self, conn: Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run a SELECT; its rows with every column's type processing applied."""
        plan = self._plan(conn.dialect, params)
        cursor = conn.connection.cursor()
        try:
            cursor.execute(plan.sql, _bind(plan, params))
            fetched = cursor.fetchall()
            results = plan.results
            if results is None:
                dialect = conn.dialect
                results = plan.results = tuple(
                    t.dialect_impl(dialect).result_processor(dialect, d[1])
                    for t, d in zip(plan.types, cursor.description, strict=True)
                )
        finally:
            cursor.close()
        if not any(results):
            return [tuple(row) for row in fetched]
        return [tuple(v if p is None else p(v) for p, v in zip(results, row, strict=True)) for row in fetched]

    def mappings(self, conn: Connection, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Run a SELECT; its rows as dicts keyed by column name."""
        keys = self._keys
        return [dict(zip(keys, row, strict=True)) for row in self.rows(conn, params)]

    def run(self, conn: Connection, params: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> None:
        """Run a DML statement once, or once per parameter set (executemany) given a list."""
        many = not isinstance(params, Mapping)
        if many and not params:
            return
        first = params[0] if many else params  # type: ignore[index]
        plan = self._plan(conn.dialect, first)  # type: ignore[arg-type]
        cursor = conn.connection.cursor()
        try:
            if many:
                cursor.executemany(plan.sql, [_bind(plan, p) for p in params])  # type: ignore[union-attr]
            else:
                cursor.execute(plan.sql, _bind(plan, first))  # type: ignore[arg-type]
        finally:
            cursor.close()

    def _plan(self, dialect: Dialect, params: Mapping[str, Any]) -> _Plan:
        # One plan per dialect, set of keys and length of each expanded list.
        expanding = self._expanding
        shape = (dialect.name, tuple(params), *(_bucket(len(params[k])) for k in expanding if k in params))
        plan = self._plans.get(shape)
        if plan is None:
            plan = _compile(self._statement, dialect, params, expanding)
            if len(plan.sources) <= _MAX_CACHED_BINDS:  # a one-off giant list is not worth keeping
                self._plans[shape] = plan
        return plan


def _compile(
    statement: ClauseElement, dialect: Dialect, params: Mapping[str, Any], expanding: tuple[str, ...]
) -> _Plan:
    compiled = statement.compile(dialect=dialect, column_keys=list(params))
    if compiled.update_prefetch:
        raise ValueError("a Prepared statement cannot fill onupdate values")
    defaults: dict[str, Any] = {}
    for column in compiled.insert_prefetch:
        if column.default is None or not column.default.is_scalar:  # type: ignore[attr-defined]
            raise ValueError(f"a Prepared statement cannot compute the default of {column.name}")
        defaults[column.key] = column.default.arg  # type: ignore[attr-defined]
    # Each value is marked with where it comes from; expanding it shows where each bind lands.
    marked = {
        k: [_Mark(k, i) for i in range(_bucket(len(v)))] if k in expanding else _Mark(k, None)
        for k, v in params.items()
    }
    expanded = compiled.construct_expanded_state({**marked, **{k: _Mark(None, None, v) for k, v in defaults.items()}})
    names = tuple(expanded.positiontup or expanded.parameters)
    sources = []
    processors = []
    for name in names:
        mark = expanded.parameters[name]
        if not isinstance(mark, _Mark):  # a value the statement holds itself (SQLite's OFFSET 0 beside a LIMIT)
            mark = _Mark(None, None, mark)
        sources.append((mark.key, mark.index, mark.value))
        bind = compiled.binds[name] if name in compiled.binds else compiled.binds[mark.key]
        processors.append(bind.type.dialect_impl(dialect).bind_processor(dialect))
    return _Plan(
        sql=expanded.statement,
        sources=tuple(sources),
        names=names,
        processors=tuple(processors),
        positional=dialect.positional,
        types=tuple(c.type for c in getattr(statement, "selected_columns", ())),
    )


@dataclass(frozen=True)
class _Mark:
    key: str | None
    index: int | None
    value: Any = None


def _bind(plan: _Plan, params: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
    values = []
    for (key, index, fixed), processor in zip(plan.sources, plan.processors, strict=True):
        if key is None:
            value = fixed
        elif index is None:
            value = params[key]
        else:
            listed = params[key]
            value = listed[min(index, len(listed) - 1)]
        values.append(value if processor is None else processor(value))
    return tuple(values) if plan.positional else dict(zip(plan.names, values, strict=True))
