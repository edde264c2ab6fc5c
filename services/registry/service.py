"""Registering parsed notices as tasks and answering task queries."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Text, cast, func
from sqlmodel import Session, col, or_, select

from proto.notice import NoticeParsed, ParsedTask, Quantity
from proto.subjects import Subjects, unit_token
from proto.task import TaskUpserted, UnitRef, task_id_for, task_key
from services.common.inbox import remember, seen
from services.common.outbox import stage
from services.registry.models import RegistryNotice, RegistryTask, TaskPublic

CONSUMER = "registry-notice-parsed"


def unit_refs(names: list[str]) -> list[UnitRef]:
    # Until the unit directory resolves aliases, a unit is identified by its name as written.
    return [UnitRef(unit_id=unit_token(n), name=n) for n in names]


def _fields(parsed: ParsedTask) -> dict[str, object]:
    return {
        "chapter": parsed.chapter,
        "text": parsed.text,
        "leaders": list(parsed.leaders),
        "host_units": list(parsed.host_units),
        "co_units": list(parsed.co_units),
        "quantities": [q.model_dump(mode="json") for q in parsed.quantities],
        "deadline_phrase": parsed.deadline.phrase if parsed.deadline else None,
        "due_date": parsed.deadline.due_date if parsed.deadline else None,
    }


def register_notice(*, session: Session, subjects: Subjects, event: NoticeParsed) -> int:
    """Upsert the notice's tasks and stage `task.upserted` for each new or changed one.

    Idempotent: a redelivered event is recognised by the inbox and changes nothing. Returns the
    number of tasks created or changed.
    """
    if seen(session, CONSUMER, event.event_id):
        return 0
    doc = event.parse.doc
    doc_no = doc.doc_no or f"未编号通知-{event.notice_id}"
    if session.get(RegistryNotice, event.notice_id) is None:
        session.add(
            RegistryNotice(
                notice_id=event.notice_id,
                doc_no=doc_no,
                title=doc.title,
                issuer=doc.issuer,
                year=doc.year,
                issued_date=doc.issued_date,
            )
        )
    changed = 0
    for parsed in event.parse.tasks:
        task_id = task_id_for(doc_no, parsed.number)
        fields = _fields(parsed)
        task = session.get(RegistryTask, task_id)
        if task is None:
            task = RegistryTask(
                task_id=task_id,
                key=task_key(doc_no, parsed.number),
                notice_id=event.notice_id,
                doc_no=doc_no,
                number=parsed.number,
                issued_date=doc.issued_date,
                **fields,  # type: ignore[arg-type]
            )
        elif all(getattr(task, k) == v for k, v in fields.items()):
            continue
        else:
            for k, v in fields.items():
                setattr(task, k, v)
            task.notice_id = event.notice_id
            task.version += 1
            task.updated_at = datetime.now(UTC)
        session.add(task)
        stage(session, subjects.task_upserted, to_event(task, correlation_id=event.notice_id))
        changed += 1
    remember(session, CONSUMER, event.event_id)
    session.commit()
    return changed


def to_event(task: RegistryTask, *, correlation_id: str | None = None) -> TaskUpserted:
    return TaskUpserted(
        source="registry",
        correlation_id=correlation_id,
        task_id=task.task_id,
        key=task.key,
        notice_id=task.notice_id,
        doc_no=task.doc_no,
        version=task.version,
        number=task.number,
        chapter=task.chapter,
        text=task.text,
        leaders=task.leaders,
        host_units=unit_refs(task.host_units),
        co_units=unit_refs(task.co_units),
        issued_date=task.issued_date,
        due_date=task.due_date,
        quantities=[Quantity.model_validate(q) for q in task.quantities],
    )


def to_public(task: RegistryTask) -> TaskPublic:
    return TaskPublic(
        task_id=task.task_id,
        key=task.key,
        notice_id=task.notice_id,
        doc_no=task.doc_no,
        number=task.number,
        chapter=task.chapter,
        text=task.text,
        leaders=task.leaders,
        host_units=unit_refs(task.host_units),
        co_units=unit_refs(task.co_units),
        quantities=[Quantity.model_validate(q) for q in task.quantities],
        deadline_phrase=task.deadline_phrase,
        due_date=task.due_date,
        version=task.version,
    )


def query_tasks(
    *,
    session: Session,
    unit: str | None = None,
    leader: str | None = None,
    notice: str | None = None,
    q: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[RegistryTask], int]:
    """Tasks matching every filter given, in notice and number order, with the total count."""
    stmt = select(RegistryTask)
    if notice:
        stmt = stmt.where(or_(RegistryTask.notice_id == notice, RegistryTask.doc_no == notice))
    conditions = []
    # JSON lists are filtered by their serialised text: portable across SQLite and PostgreSQL,
    # and exact because names are matched with their quotes. The directory issue replaces this.
    if unit:
        needle = f'%"{unit}"%'
        conditions.append(
            or_(
                cast(RegistryTask.host_units, Text).like(needle),
                cast(RegistryTask.co_units, Text).like(needle),
            )
        )
    if leader:
        conditions.append(cast(RegistryTask.leaders, Text).like(f'%"{leader}"%'))
    if q:
        conditions.append(col(RegistryTask.text).contains(q))
    for condition in conditions:
        stmt = stmt.where(condition)
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    rows = session.exec(
        stmt.order_by(RegistryTask.doc_no, RegistryTask.number).offset(offset).limit(limit)  # type: ignore[arg-type]
    ).all()
    return list(rows), int(total)
