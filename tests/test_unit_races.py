"""Two transactions creating the same unit at once both succeed on PostgreSQL (no unique violation)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from proto.subjects import unit_token
from proto.task import TaskUpserted, UnitRef
from services.common.db import create_tables, make_engine
from services.common.inbox import InboxEntry
from services.common.outbox import OutboxEntry
from services.progress.models import TABLES as PROGRESS_TABLES
from services.progress.models import ProgressUnit
from services.progress.tasks import apply_task_upserted
from services.registry.app import TABLES as REGISTRY_TABLES
from services.registry.directory import resolve_names
from services.registry.directory_models import Unit, UnitAlias
from tests.conftest import _fresh_pg_databases
from tests.progress.conftest import RULES, SUBJECTS

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_engine(pg_admin_url: str) -> Iterator[Engine]:
    with _fresh_pg_databases(pg_admin_url, [f"luoshi_test_{uuid.uuid4().hex[:12]}"]) as [url]:
        engine = make_engine(url)
        create_tables(engine, [InboxEntry, OutboxEntry, *PROGRESS_TABLES, *REGISTRY_TABLES])
        yield engine
        engine.dispose()


def _count(engine: Engine, model: type, *where: object) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(model).where(*where)).one())


def test_registry_resolves_a_new_name_in_two_transactions_at_once(pg_engine: Engine) -> None:
    """The second transaction waits on the first's uncommitted insert, then finds the row."""
    names = ["并发新局", "并发新办"]
    with Session(pg_engine, expire_on_commit=False) as first:
        resolve_names(first, names)  # inserted, not yet committed

        def second() -> list[str]:
            with Session(pg_engine) as session:
                ids = [u.unit_id for u in resolve_names(session, names).values()]
                session.commit()
                return ids

        with ThreadPoolExecutor(1) as pool:
            waiting = pool.submit(second)
            time.sleep(0.3)  # the second is now blocked on the first's rows
            first.commit()
            assert waiting.result(timeout=30) == [unit_token(n) for n in names]
    assert _count(pg_engine, Unit) == 2
    assert _count(pg_engine, UnitAlias) == 2


def _event(number: int, units: list[str]) -> TaskUpserted:
    return TaskUpserted(
        task_id=f"t-race-{number}",
        key=f"示政发〔2026〕9号#{number}",
        notice_id="n1",
        doc_no="示政发〔2026〕9号",
        version=1,
        number=number,
        text=f"第{number}项任务",
        host_units=[UnitRef(unit_id=unit_token(u), name=u) for u in units],
        host_unit_ids=[unit_token(u) for u in [*units, "只有编号的成员"]],
        due_date=date(2026, 12, 31),
        issued_date=date(2026, 1, 1),
    )


def test_progress_learns_the_same_new_units_from_concurrent_task_events(pg_engine: Engine) -> None:
    for round_ in range(5):
        units = [f"第{round_}轮甲局", f"第{round_}轮乙局"]
        start = threading.Barrier(8)

        def apply(number: int, units: list[str] = units, start: threading.Barrier = start) -> None:
            with Session(pg_engine, expire_on_commit=False) as session:
                start.wait()
                event = _event(number, units if number % 2 else units[::-1])
                apply_task_upserted(
                    session=session, subjects=SUBJECTS, event=event, today=date(2026, 1, 20), rules=RULES
                )

        with ThreadPoolExecutor(8) as pool:
            for future in [pool.submit(apply, round_ * 100 + n) for n in range(8)]:
                future.result(timeout=60)
        ids = [unit_token(u) for u in units]
        assert _count(pg_engine, ProgressUnit, ProgressUnit.unit_id.in_(ids)) == 2  # type: ignore[attr-defined]
    assert _count(pg_engine, ProgressUnit, ProgressUnit.unit_id == unit_token("只有编号的成员")) == 1
