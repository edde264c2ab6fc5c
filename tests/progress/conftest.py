from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import Session

from proto.notice import Milestone, Quantity
from proto.subjects import Subjects, unit_token
from proto.task import TaskUpserted, UnitRef
from services.common.db import create_tables, make_engine
from services.common.identity import AuthToken, Principal
from services.common.inbox import InboxEntry
from services.common.outbox import OutboxEntry
from services.progress.models import TABLES
from services.progress.status import Rules
from services.progress.tasks import apply_task_upserted

SUBJECTS = Subjects("test")
RULES = Rules()
DOC = "示政发〔2026〕9号"


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    """A real SQLite database with the progress tables; domain functions run on it directly."""
    engine = make_engine(f"sqlite:///{tmp_path / 'progress.db'}")
    create_tables(engine, [InboxEntry, OutboxEntry, AuthToken, *TABLES])
    with Session(engine, expire_on_commit=False) as s:
        yield s
    engine.dispose()


def ref(name: str, *, group: bool = False) -> UnitRef:
    return UnitRef(unit_id=unit_token(name), name=name, is_group=group)


def unit(name: str) -> Principal:
    return Principal(token_id=f"tok-{name}", role="unit", unit_id=unit_token(name))


OFFICE = Principal(token_id="tok-office", role="office", unit_id=None)


def upsert(
    session: Session,
    *,
    number: int = 1,
    today: date = date(2026, 1, 20),
    hosts: tuple[str, ...] = ("甲局",),
    cos: tuple[str, ...] = ("乙局",),
    host_ids: list[str] | None = None,
    leaders: tuple[str, ...] = ("王明",),
    chapter: str = "二",
    issued: date | None = date(2026, 1, 1),
    due: date | None = date(2026, 12, 31),
    quantities: tuple[float, ...] = (),
    milestones: tuple[Milestone, ...] = (),
    version: int = 1,
    removed: bool = False,
    rules: Rules = RULES,
    doc: str = DOC,
    notice_id: str = "n1",
) -> str:
    task_id = f"t-{number}" if doc == DOC else f"t-{notice_id}-{number}"
    event = TaskUpserted(
        task_id=task_id,
        key=f"{doc}#{number}",
        notice_id=notice_id,
        doc_no=doc,
        version=version,
        number=number,
        chapter=chapter,
        text=f"第{number}项任务",
        leaders=list(leaders),
        host_units=[ref(h) for h in hosts],
        co_units=[ref(c) for c in cos],
        host_unit_ids=host_ids or [],
        issued_date=issued,
        due_date=due,
        quantities=[Quantity(text=f"新增{v:g}家", value=v, unit="家") for v in quantities],
        milestones=list(milestones),
        removed=removed,
    )
    apply_task_upserted(session=session, subjects=SUBJECTS, event=event, today=today, rules=rules)
    return task_id
