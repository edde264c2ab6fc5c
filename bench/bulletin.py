"""Making a bulletin for a notice of 2,000 tasks and 200 units with a year of reports, beside the roll-up query.

SQLite in a temporary folder. The tasks and a year of monthly reports (each host unit reports
about 6 periods in 7 on time, some late, some never) are inserted as rows; the timings are the
figures of every section (`bulletins.count`, as of the period's end), the whole draft with its
.docx, .xlsx and .html, and, in the same run, the notice's roll-up by unit (`reads.rollups`).
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import insert
from sqlmodel import Session

from services.common.clock import CHINA
from services.common.db import create_tables, make_engine
from services.common.inbox import InboxEntry
from services.common.outbox import OutboxEntry
from services.progress import bulletin_docx, bulletin_html, bulletin_xlsx, bulletins
from services.progress.bulletin_periods import parse
from services.progress.bulletin_sections import document
from services.progress.models import TABLES, ProgressReport, ProgressTask, ProgressUnit
from services.progress.reads import rollups
from services.progress.status import Rules

DOC = "兖政发〔2026〕1号"
TARGET_S = 2.0


def _load(session: Session, tasks: int, units: int) -> int:
    rng = random.Random(7)
    conn = session.connection()
    conn.execute(
        insert(ProgressUnit.__table__),  # type: ignore[attr-defined]
        [{"unit_id": f"u{i:04d}", "name": f"第{i}单位", "canonical": None} for i in range(units)],
    )
    task_rows, report_rows = [], []
    for n in range(tasks):
        hosts = [f"u{n % units:04d}"] + ([f"u{(n * 7 + 3) % units:04d}"] if n % 10 == 0 else [])
        task_rows.append(
            {
                "task_id": f"t{n:05d}", "key": f"{DOC}#{n}", "notice_id": "n1", "doc_no": DOC, "number": n + 1,
                "chapter": "一", "text": f"第{n + 1}项任务：推进重点项目建设", "leaders": [f"领导{n % 20}"],
                "host_units": hosts, "co_units": [], "host_unit_ids": hosts, "co_unit_ids": [], "quantities": [],
                "issued_date": date(2026, 1, 1), "assigned_on": date(2026, 1, 5),
                "due_date": date(2026, 3 + n % 10, 28), "flag": "blue", "achieved": {},
            }
        )  # fmt: skip
        for host in hosts:
            for month in range(1, 13):
                luck = rng.random()
                if luck > 0.93:
                    continue
                day = rng.randint(1, 5) if luck < 0.8 else rng.randint(6, 25)
                at = datetime(2026 + month // 12, month % 12 + 1, day, 2, 0, tzinfo=UTC)
                report_rows.append(
                    {
                        "report_id": f"r{len(report_rows):07d}", "task_id": f"t{n:05d}", "unit_id": host,
                        "unit": host, "period": f"2026-{month:02d}", "percent": min(100.0, month * 8.5),
                        "completion": min(100.0, month * 8.5), "quantities": {}, "links": [], "answer": {},
                        "received_at": at - timedelta(days=20 if month == 12 else 0),
                    }
                )  # fmt: skip
    conn.execute(insert(ProgressTask.__table__), task_rows)  # type: ignore[attr-defined]
    conn.execute(insert(ProgressReport.__table__), report_rows)  # type: ignore[attr-defined]
    session.commit()
    return len(report_rows)


def _median(call: Callable[[], object], reps: int) -> float:
    samples = []
    for _ in range(reps):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main(quick: bool = False) -> None:
    tasks, units, reps = 2_000, 200, 3 if quick else 7
    rules, layout = Rules(zone=CHINA), bulletins.Layout()
    period = parse("2026-12")
    table = Table(title=f"bulletin of one notice: {tasks:,} tasks, {units} units, a year of reports (SQLite)")
    for column in ("measure", "median", "target"):
        table.add_column(column)
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'progress.db'}")
        create_tables(engine, [InboxEntry, OutboxEntry, *TABLES])
        with Session(engine, expire_on_commit=False) as session:
            reports = _load(session, tasks, units)

            def figures() -> object:
                return bulletins.count(session, doc_nos=[DOC], period=period, rules=rules, options=layout.options)

            def whole() -> object:
                row = bulletins.create_draft(
                    session=session, doc_nos=[DOC], period=period, rules=rules, layout=layout,
                    now=datetime(2027, 1, 5, 2, tzinfo=UTC), actor="bench",
                )  # fmt: skip
                doc = document(row, layout.issuer, CHINA)
                return bulletin_docx.render(doc), bulletin_xlsx.render(doc), bulletin_html.render(doc)

            def rollup() -> object:
                return rollups(conn=session.connection(), by="unit", notice=DOC)

            figures_s, whole_s, rollup_s = _median(figures, reps), _median(whole, reps), _median(rollup, reps)
        engine.dispose()
    verdict = "met" if whole_s <= TARGET_S else "not met"
    table.add_row(f"figures of every section ({reports:,} reports)", f"{figures_s:.2f} s", "")
    table.add_row("draft + .docx + .xlsx + .html", f"{whole_s:.2f} s", f"≤ {TARGET_S:g} s: {verdict}")
    table.add_row("baseline: the notice's roll-up by unit (GET /status?notice=)", f"{rollup_s * 1000:.1f} ms", "")
    Console().print(table)


if __name__ == "__main__":
    main()
