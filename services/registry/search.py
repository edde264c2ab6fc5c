"""Task queries: by unit (directly or through a group), leader, notice, chapter, due window, text."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, literal_column, text
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

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
    total = session.exec(select(func.count()).select_from(RegistryTask).where(*conditions)).one()
    rows = session.exec(
        select(RegistryTask)
        .where(*conditions)
        .order_by(RegistryTask.doc_no, RegistryTask.number)  # type: ignore[arg-type]
        .offset(query.offset)
        .limit(query.limit)
    ).all()
    return list(rows), int(total)
