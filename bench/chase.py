"""The daily tick end to end: progress re-judging every open task, notify evaluating every rule.

`luoshi serve progress` and `luoshi serve notify` run as their own processes on a nats-server
with the services' NATS users, over databases of N tasks written with bulk SQL (what months of
use leave behind: most tasks reported through last month, a fifth behind: June's report missing, its first 催办
sent on 1 July).
One `clock.tick` is published; the time is until both services have recorded it as handled
(the days before are ticked first, unmeasured, as they would have been).
Two days are measured: an ordinary working day (a few steps due) and the day of the month's
临近提醒 (one for every task not yet reported). Baseline, in the same run: reading every task row
of both databases, the floor any tick that looks at every task cannot go under.
"""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlmodel import Session

from bench.progress import BIN, ROOT, UNITS, BenchNats, Process, _build_database, _progress
from proto.clock import ClockTicked
from proto.subjects import Subjects, unit_token
from services.common.db import create_tables, make_engine
from services.common.inbox import InboxEntry
from services.common.natscreds import local_server_auth
from services.common.natsserver import NatsServer, free_port
from services.common.outbox import OutboxEntry
from services.common.workdays import WorkCalendar
from services.notify.models import TABLES, ChasedTask
from services.notify.rules import Rules as NotifyRules
from services.notify.schedule import reschedule
from services.progress.status import Rules, apply_clock_tick
from tests.helpers import wait_ready

ORDINARY = date(2026, 7, 8)  # a Wednesday: only the steps and deadlines due that day
ADVANCE = date(2026, 7, 28)  # three working days before 31 July: every unreported task's 临近提醒
LEADERS = [f"p{i:010d}" for i in range(30)]
TARGET_S = 0.5
TARGET_MB = 150.0


def _notify(data: Path, server: BenchNats) -> Process:
    creds = server.credentials["notify"]
    env = {
        "LUOSHI_NOTIFY_NATS_URL": server.url,
        "LUOSHI_NOTIFY_NATS_USER": creds.user,
        "LUOSHI_NOTIFY_NATS_PASSWORD": creds.password,
        "LUOSHI_NOTIFY_DATA_DIR": str(data),
        "LUOSHI_NOTIFY_SUBJECT_ROOT": ROOT,
    }
    args = [str(BIN / "luoshi"), "serve", "notify", "--host", "127.0.0.1", "--port", "{port}"]
    return Process(args, env, data / "notify.log")


def _chased(n: int, rng: random.Random, rules: NotifyRules, calendar: WorkCalendar, today: date) -> ChasedTask:
    unit = UNITS[n % len(UNITS)]
    behind = rng.random() < 0.2
    task = ChasedTask(
        task_id=f"tb-{n}",
        doc_no=f"兖政发〔2026〕{n % 5 + 1}号",
        number=n,
        text=f"任务{n}：推进重点项目建设，新增规上企业{n % 50}家",
        supervision_start=date(2026, 1, 1),
        due_date=today + timedelta(days=rng.randrange(15, 177)),  # past reminders went out before
        units={unit_token(unit): {"name": unit, "external": False}},
        leaders=[{"name": f"领导{n % 30}", "post_id": LEADERS[n % 30], "holder": f"领导{n % 30}"}],
        flag="red" if behind else "blue",
        period_kind="month",
        reported_through=date(2026, 5, 31) if behind else date(2026, 6, 30),
        first_seen=date(2026, 1, 1),
    )
    reschedule(task, rules, calendar, today=today, open_report_case=behind)
    return task


def _build_notify(data: Path, tasks: int, today: date) -> None:
    """Notify's tables as after half a year: every task known, a fifth with a 催办 under way."""
    path = data / "notify.db"
    engine = make_engine(f"sqlite:///{path}")
    create_tables(engine, [InboxEntry, OutboxEntry, *TABLES])
    engine.dispose()
    rng, rules, calendar = random.Random(7), NotifyRules(), WorkCalendar()
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    rows = [_chased(n, rng, rules, calendar, today).model_dump(mode="json") for n in range(tasks)]
    columns = list(rows[0])
    db.executemany(
        f"INSERT INTO notify_task ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
        (
            tuple(json.dumps(r[c], ensure_ascii=False) if isinstance(r[c], dict | list) else r[c] for c in columns)
            for r in rows
        ),
    )
    cases = []
    for r in rows:
        if r["flag"] != "red":
            continue
        uid = next(iter(r["units"]))
        # June's report went missing: its first 催办 went out on 1 July, the second is due the 2nd.
        nxt = date(2026, 7, 2)
        cases.append(
            (
                f"e{r['task_id']}",
                "reminder",
                r["task_id"],
                r["units"][uid]["name"],
                uid,
                "…",
                "report_missing",
                "2026-06",
                1,
                "open",
                nxt.isoformat(),
                f" {uid} ",
                "[]",
            )
        )
    db.executemany(
        "INSERT INTO notify_escalation (escalation_id, level, task_id, unit, unit_id, message, rule, cause_key, step,"
        " state, next_on, parties, recipients, raised_at, title, doc_no, closed_reason, ack_comment)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '2026-06-01 00:00:00', '', '', '', '')",
        cases,
    )
    # The service's own clock loop must not tick the real date into the measurement.
    db.execute("INSERT INTO notify_clock (id, last_tick) VALUES (1, '2100-01-01')")
    db.commit()
    db.close()


def _judge_all(data: Path, day: date) -> None:
    """Progress's tasks judged as of `day`, as months of daily ticks would have left them.

    Without it the first tick would judge the bulk-written flags afresh and publish a status
    change for most of them: a one-off flood a running county never sees.
    """
    engine = make_engine(f"sqlite:///{data / 'progress.db'}")
    tick = ClockTicked(event_id=f"tick-seed-{day.isoformat()}", source="bench", today=day)
    with Session(engine) as session:
        apply_clock_tick(session=session, subjects=Subjects(ROOT), event=tick, rules=Rules())
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM outbox")
    engine.dispose()


def _scan_floor(data: Path) -> float:
    started = time.perf_counter()
    for name, table in (("progress.db", "progress_task"), ("notify.db", "notify_task")):
        db = sqlite3.connect(data / name)
        for _row in db.execute(f"SELECT * FROM {table}"):
            pass
        db.close()
    return time.perf_counter() - started


async def _handled(path: Path, event_id: str) -> None:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        while not db.execute("SELECT 1 FROM inbox WHERE event_id = ?", (event_id,)).fetchone():
            await asyncio.sleep(0.02)
    finally:
        db.close()


async def _drained(data: Path) -> None:
    """Until both services have published what their last tick staged: a day later, they would have."""
    for name in ("progress", "notify"):
        db = sqlite3.connect(f"file:{data / name}.db?mode=ro", uri=True)
        try:
            while db.execute("SELECT 1 FROM outbox WHERE published_at IS NULL LIMIT 1").fetchone():
                await asyncio.sleep(0.1)
        finally:
            db.close()


async def _tick(server: BenchNats, data: Path, day: date) -> tuple[float, float, float]:
    """Seconds until progress, notify, and both have handled the tick of `day`."""
    tick = ClockTicked(event_id=f"tick-{day.isoformat()}", source="bench", today=day)
    conn = await server.connect("notify")
    started = time.perf_counter()
    await conn.jetstream().publish(
        Subjects(ROOT).clock_tick, tick.model_dump_json().encode(), headers={"Nats-Msg-Id": tick.event_id}
    )
    await conn.close()
    done: dict[str, float] = {}

    async def wait(name: str) -> None:
        await _handled(data / f"{name}.db", tick.event_id)
        done[name] = time.perf_counter() - started

    await asyncio.gather(wait("progress"), wait("notify"))
    return done["progress"], done["notify"], max(done.values())


async def _run(tasks: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="luoshi-bench-") as name:
        tmp = Path(name)
        config, credentials = local_server_auth(tmp / "nats-auth", Subjects(ROOT))
        nats_server = NatsServer(free_port(), tmp / "nats", log_file=tmp / "nats.log", config=config)
        nats_server.start()
        server = BenchNats(nats_server.url, credentials)
        data = tmp / "data"
        _build_database(data, tasks, 0)
        _judge_all(data, ORDINARY.replace(day=1))
        _build_notify(data, tasks, ORDINARY)
        floor = _scan_floor(data)
        services = [_progress(data, server), _notify(data, server)]
        try:
            for service in services:
                service.start()
                await wait_ready(service.url)
            # The days before each measured day are ticked first, unmeasured, as they would have
            # been: what was due then (and a first judgement of every task) is not its work.
            for day in range(2, ORDINARY.day):
                await _tick(server, data, ORDINARY.replace(day=day))
            await _drained(data)
            ordinary = await _tick(server, data, ORDINARY)
            await _tick(server, data, ADVANCE - timedelta(days=1))
            await _drained(data)
            advance = await _tick(server, data, ADVANCE)
            rss = [s.peak_rss_mb() for s in services]
        finally:
            for service in services:
                service.stop()
            nats_server.stop()
    return {"floor": floor, "ordinary": ordinary, "advance": advance, "rss": rss, "tasks": tasks}


def main(quick: bool = False) -> None:
    tasks = 20_000 if quick else 100_000
    console = Console(width=max(Console().width, 150))
    console.print(f"[bold]chase[/bold]{' (quick)' if quick else ''}: the daily tick over {tasks:,} tasks…")
    r = asyncio.run(_run(tasks))
    floor = r["floor"]
    table = Table(title=f"Daily tick, {tasks:,} tasks (progress + notify, end to end)")
    for column in ("measure", "progress", "notify", "both", "baseline: read every task row", "ratio", "target"):
        table.add_column(column, justify="right")
    for label, (p, n, both) in (
        ("ordinary working day (8 Jul)", r["ordinary"]),
        ("临近提醒 day (28 Jul)", r["advance"]),
    ):  # type: ignore[misc]
        table.add_row(
            label,
            f"{p:.2f} s",
            f"{n:.2f} s",
            f"{both:.2f} s",
            f"{floor:.2f} s",
            f"{both / floor:.1f}×",
            f"≤ {TARGET_S} s",
        )
    prss, nrss = r["rss"]  # type: ignore[misc]
    table.add_row("peak RSS", f"{prss:.0f} MB", f"{nrss:.0f} MB", "", "", "", f"notify ≤ {TARGET_MB:.0f} MB")
    console.print(table)
