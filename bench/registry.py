"""Registry queries at 10,000 tasks: one unit's task list and a full-text search, SQLite and PostgreSQL.

The tasks are the shared notices' tasks, registered again under made-up 文号 until there are
10,000 (links are not computed: the bench measures reads). Each query is timed through the
registry's HTTP app (ASGI, no network) beside a baseline of the same query as raw SQL on the
same engine in the same run; the difference is what the service adds (resolution, assignments,
JSON). The target is p95 ≤ 20 ms for a unit's list. PostgreSQL is skipped with a note when the
server on 127.0.0.1:5432 cannot be reached.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import psycopg
from fastapi.testclient import TestClient
from rich.console import Console
from rich.table import Table
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from proto.notice import NoticeParsed, ParsedNotice
from proto.subjects import Subjects
from services.common.db import create_tables
from services.common.inbox import InboxEntry
from services.common.outbox import OutboxEntry
from services.ingest.parsing.parser import parse_text
from services.registry.app import TABLES, create_app
from services.registry.directory import find_unit
from services.registry.directory_io import import_directory
from services.registry.search import unit_scope
from services.registry.settings import RegistrySettings
from services.registry.versions import register_notice

TARGET_P95_MS = 20.0
UNIT = "区工业和信息化局"
QUERY = "高新技术企业"
PG_ADMIN = os.environ.get("LUOSHI_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
SHARED = Path(os.environ.get("LUOSHI_SHARED", Path(__file__).resolve().parents[1].parent / "shared"))
NOW = datetime(2026, 3, 1, tzinfo=UTC)

# The best plain SQL for the same answers (a page of 50 full rows and the total), written by
# hand in one statement each: the floor the service is measured against. A unit's list covers
# its groups too (a bureau sees what 区直相关部门 must do), so the baseline takes the same unit
# ids the service does; the page is chosen on the narrow ordering key, counted in the same pass,
# and only its 50 rows are read in full.
RAW_UNIT = """
WITH page AS (
  SELECT task_id, doc_no, number, count(*) OVER () AS total FROM registry_assignment
  WHERE unit_id IN ({ids}) GROUP BY task_id, doc_no, number ORDER BY doc_no, number LIMIT 50)
SELECT t.*, page.total FROM page JOIN registry_task t ON t.task_id = page.task_id ORDER BY page.doc_no, page.number
"""
_RAW_TEXT_PAGE = """
WITH page AS (
  SELECT task_id, doc_no, number, count(*) OVER () AS total FROM registry_task
  WHERE removed = {false} AND {match} ORDER BY doc_no, number LIMIT 50)
SELECT t.*, page.total FROM page JOIN registry_task t ON t.task_id = page.task_id ORDER BY page.doc_no, page.number
"""
RAW_TEXT = {
    "sqlite": _RAW_TEXT_PAGE.format(
        false="0", match="rowid IN (SELECT rowid FROM registry_task_fts WHERE registry_task_fts MATCH :phrase)"
    ),
    "postgresql": _RAW_TEXT_PAGE.format(false="false", match="text ILIKE :pattern"),
}


def _notices(total: int) -> list[ParsedNotice]:
    originals = [parse_text(p.read_text(encoding="utf-8")) for p in sorted((SHARED / "notices").glob("*.txt"))]
    out: list[ParsedNotice] = []
    count, copy = 0, 0
    while count < total:
        for parse in originals:
            if count >= total:
                break
            clone = parse.model_copy(deep=True)
            clone.doc.doc_no = f"{parse.doc.doc_no}-副本{copy}"
            clone.tasks = clone.tasks[: total - count]
            count += len(clone.tasks)
            out.append(clone)
        copy += 1
    return out


def _load(engine: Engine, total: int) -> float:
    create_tables(engine, [InboxEntry, OutboxEntry, *TABLES])
    subjects = Subjects("bench")
    directory = resources.files("services.registry").joinpath("examples", "directory-yanzhou.yaml").read_text("utf-8")
    started = time.perf_counter()
    with Session(engine, expire_on_commit=False) as session:
        import_directory(session, subjects, directory, "yaml", now=NOW)
        for i, parse in enumerate(_notices(total)):
            event = NoticeParsed(notice_id=f"bench{i:011d}", sha256="0" * 64, filename="b.txt", parse=parse)
            register_notice(session=session, subjects=subjects, event=event, now=NOW, link=False)
    elapsed = time.perf_counter() - started
    if engine.dialect.name == "postgresql":
        # What autovacuum does on its own within a minute of a bulk load; done here so the
        # planner does not change its mind halfway through the timings. SQLite never gathers
        # statistics by itself, so it is measured as loaded.
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    return elapsed


def _time(call: Callable[[], object], reps: int) -> tuple[float, float]:
    for _ in range(3):
        call()
    samples = []
    for _ in range(reps):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, round(0.95 * len(samples)) - 1)]


def _measure(name: str, url: str, total: int, reps: int) -> list[tuple[str, ...]]:
    settings = RegistrySettings(database_url=url, subject_root=f"b{uuid.uuid4().hex[:8]}")
    app = create_app(settings)
    engine: Engine = app.state.runtime.engine
    load_s = _load(engine, total)
    client = TestClient(app)  # no lifespan: the bench reads, it needs no broker
    with Session(engine) as session:
        unit = find_unit(session, UNIT)
        assert unit is not None
        unit_count = client.get(f"/units/{unit.unit_id}/tasks").json()["count"]
        ids = ", ".join(f"'{i}'" for i in unit_scope(session, unit.unit_id))
    dialect = engine.dialect.name

    def raw(sql: str, **params: str) -> Callable[[], object]:
        def run() -> object:
            with engine.connect() as conn:
                return conn.execute(text(sql), params).fetchall()

        return run

    raw_unit = raw(RAW_UNIT.format(ids=ids))
    raw_count = raw_unit()[0][-1]  # type: ignore[index]
    assert raw_count == unit_count, (raw_count, unit_count)

    params = {"phrase": f'"{QUERY}"'} if dialect == "sqlite" else {"pattern": f"%{QUERY}%"}
    text_count = client.get("/tasks", params={"q": QUERY}).json()["count"]
    assert raw(RAW_TEXT[dialect], **params)()[0][-1] == text_count  # type: ignore[index]
    rows = []
    for label, service, baseline in (
        (
            f"unit list ({UNIT}, {unit_count} tasks, page of 50)",
            lambda: client.get(f"/units/{unit.unit_id}/tasks"),
            raw_unit,
        ),
        (f"full text q={QUERY}", lambda: client.get("/tasks", params={"q": QUERY}), raw(RAW_TEXT[dialect], **params)),
    ):
        p50, p95 = _time(service, reps)
        b50, b95 = _time(baseline, reps)
        verdict = ("✓" if p95 <= TARGET_P95_MS else "✗") if label.startswith("unit") else ""
        rows.append((name, label, f"{p50:.1f}", f"{p95:.1f}", f"{b50:.1f}", f"{b95:.1f}", verdict))
    rows.append((name, f"register {total} tasks (no links)", f"{load_s:.1f} s", "", "", "", ""))
    engine.dispose()
    return rows


def main(quick: bool = False) -> None:
    total, reps = (2_000, 30) if quick else (10_000, 200)
    console = Console()
    table = Table(
        title=f"registry queries at {total:,} tasks (ms; target p95 ≤ {TARGET_P95_MS:.0f} ms for a unit's list)"
    )
    for column in ("database", "query", "p50", "p95", "raw SQL p50", "raw SQL p95", "target"):
        table.add_column(column)
    with tempfile.TemporaryDirectory() as tmp:
        for row in _measure("SQLite", f"sqlite:///{Path(tmp) / 'registry.db'}", total, reps):
            table.add_row(*row)
    try:
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn:
            name = f"luoshi_bench_registry_{uuid.uuid4().hex[:8]}"
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        console.print(f"[yellow]PostgreSQL skipped: {exc}[/yellow]")
    else:
        base = PG_ADMIN.rsplit("/", 1)[0].split("://", 1)[1]
        try:
            for row in _measure("PostgreSQL", f"postgresql+psycopg://{base}/{name}", total, reps):
                table.add_row(*row)
        finally:
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    console.print(table)


if __name__ == "__main__":
    main()
