"""Task queries: by unit (directly or through a group), leader, notice, chapter, due window, text."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, literal_column, text
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select

from services.common.errors import ApiError
from services.registry.directory import Groups, find_unit
from services.registry.models import Assignment, NoticeVersion, RegistryTask, TaskLeader
from services.registry.posts import LeaderBook

# The trigram tokenizer indexes three-character windows; shorter queries fall back to LIKE.
TRIGRAM = 3


@dataclass
class TaskQuery:
    unit: str | None = None
    role: str | None = None
    leader: str | None = None
    notice: str | None = None
    chapter: str | None = None
    due_before: date | None = None
    due_after: date | None = None
    q: str | None = None
    include_removed: bool = False
    limit: int = 50
    offset: int = 0


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def text_condition(session: Session, q: str) -> ColumnElement[bool]:
    """Substring semantics on both databases, served by FTS5 trigram or pg_trgm where it can."""
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite" and len(q) >= TRIGRAM:
        phrase = '"' + q.replace('"', '""') + '"'
        fts = text("SELECT rowid FROM registry_task_fts WHERE registry_task_fts MATCH :phrase").bindparams(
            phrase=phrase
        )
        return literal_column("registry_task.rowid").in_(fts)
    pattern = f"%{_escape_like(q)}%"
    if dialect == "postgresql":
        return col(RegistryTask.text).ilike(pattern, escape="\\")
    return col(RegistryTask.text).like(pattern, escape="\\")


def unit_scope(session: Session, ref: str) -> list[str]:
    """Unit ids whose tasks a unit sees: its own and those of every group it belongs to."""
    unit = find_unit(session, ref)
    if unit is None:
        raise ApiError(404, "unit_not_found", f"未找到单位 {ref}", f"unit {ref} not found")
    return [unit.unit_id, *Groups(session).containing(unit)]


def notice_doc_nos(session: Session, ref: str) -> list[str]:
    """A notice named by its 文号 or by the id of any of its uploads."""
    found = session.exec(select(NoticeVersion.doc_no).where(NoticeVersion.notice_id == ref)).all()
    return sorted({ref, *found})


def query_tasks(*, session: Session, query: TaskQuery) -> tuple[list[RegistryTask], int]:
    """Tasks matching every filter given, in notice and number order, with the total count."""
    if query.unit and not _task_filters(query):
        return _unit_page(session, query)
    conditions: list[ColumnElement[bool]] = []
    if not query.include_removed:
        conditions.append(col(RegistryTask.removed).is_(False))
    if query.notice:
        conditions.append(col(RegistryTask.doc_no).in_(notice_doc_nos(session, query.notice)))
    if query.chapter:
        conditions.append(col(RegistryTask.chapter) == query.chapter)
    if query.due_before:
        conditions.append(col(RegistryTask.due_date) <= query.due_before)
    if query.due_after:
        conditions.append(col(RegistryTask.due_date) >= query.due_after)
    if query.unit:
        assigned = select(Assignment.task_id).where(col(Assignment.unit_id).in_(unit_scope(session, query.unit)))
        if query.role:
            assigned = assigned.where(Assignment.role == query.role)
        conditions.append(col(RegistryTask.task_id).in_(assigned))
    if query.leader:
        names = LeaderBook(session).names_for(query.leader.strip())
        led = select(TaskLeader.task_id).where(col(TaskLeader.name).in_(names))
        conditions.append(col(RegistryTask.task_id).in_(led))
    if query.q and query.q.strip():
        conditions.append(text_condition(session, query.q.strip()))
    ids = (
        select(RegistryTask.task_id, func.count().over())
        .where(*conditions)
        .order_by(col(RegistryTask.doc_no), col(RegistryTask.number))
    )
    count = select(func.count()).select_from(RegistryTask).where(*conditions)
    return _page(session, ids, count, query)


def _task_filters(query: TaskQuery) -> bool:
    """Whether the query filters on anything besides the unit and its role."""
    return bool(
        query.notice
        or query.chapter
        or query.due_before
        or query.due_after
        or query.leader
        or (query.q and query.q.strip())
    )


def _unit_page(session: Session, query: TaskQuery) -> tuple[list[RegistryTask], int]:
    """A unit's tasks from the assignment table alone: its rows carry the ordering key.

    A removed task has no assignment rows, so `include_removed` changes nothing here, as in
    the general query.
    """
    assert query.unit is not None
    condition = [col(Assignment.unit_id).in_(unit_scope(session, query.unit))]
    if query.role:
        condition.append(col(Assignment.role) == query.role)
    ids = (
        select(Assignment.task_id, func.count().over())
        .where(*condition)
        .group_by(col(Assignment.task_id), col(Assignment.doc_no), col(Assignment.number))
        .order_by(col(Assignment.doc_no), col(Assignment.number))
    )
    count = select(func.count(func.distinct(Assignment.task_id))).where(*condition)
    return _page(session, ids, count, query)


def _page(session: Session, ids: Select, count: Select, query: TaskQuery) -> tuple[list[RegistryTask], int]:  # type: ignore[type-arg]
    """One page: ids and the total in one narrow pass, then only the page's rows in full.

    `ids` selects (task_id, count over the whole match) in list order; the window counts every
    match in the same pass that orders them, so the filter runs once. `count` is needed only
    when the page is past the end.
    """
    found = session.exec(ids.offset(query.offset).limit(query.limit)).all()
    if found:
        total = int(found[0][1])
    elif query.offset:
        total = int(session.exec(count).one())
    else:
        total = 0
    page = [task_id for task_id, _ in found]
    if not page:
        return [], total
    rows = {t.task_id: t for t in session.exec(select(RegistryTask).where(col(RegistryTask.task_id).in_(page))).all()}
    return [rows[i] for i in page], total
