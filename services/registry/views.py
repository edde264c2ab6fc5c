"""Task routes: queries, one task with its ETag, corrections and their audit trail."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response

from services.common.access import ANY_ROLE, OFFICE_OR_SUPERVISOR, OfficeDep
from services.common.audit import audit
from services.common.deps import RuntimeDep, SessionDep
from services.common.identity import Principal
from services.common.params import Limit, Offset
from services.registry.corrections import audit_of, correct_task, etag_of, require_task
from services.registry.links import series_of
from services.registry.posts import LeaderBook
from services.registry.publish import Resolver, to_public
from services.registry.schemas import AuditPublic, AuditsPublic, TaskPatch, TaskPublic, TasksPublic
from services.registry.search import TaskQuery, query_tasks

router = APIRouter(tags=["tasks"])
# A task's text, units and leaders come from a published notice: every role reads them. What the
# units write (reports, reasons) is in progress, with its own rules; the change history names
# people and is for the office and supervisors.
READER = Depends(ANY_ROLE)
OverseerDep = Annotated[Principal, Depends(OFFICE_OR_SUPERVISOR)]


def _page(session: SessionDep, query: TaskQuery) -> TasksPublic:
    rows, total = query_tasks(session=session, query=query)
    resolver, book = Resolver(session, rows), LeaderBook(session)
    return TasksPublic(data=[to_public(t, resolver, book) for t in rows], count=total)


@router.get("/tasks", response_model=TasksPublic, dependencies=[READER])
def list_tasks(
    session: SessionDep,
    unit: str | None = Query(None, max_length=200, description="A unit id, name or alias; groups it belongs to count."),
    role: str | None = Query(None, pattern="^(host|co)$", description="Only as host or only as co-unit."),
    leader: str | None = Query(
        None, max_length=100, description="A leader as written, a post id or title, or its holder."
    ),
    notice: str | None = Query(None, max_length=200, description="A notice's 文号 or an upload id."),
    chapter: str | None = Query(None, max_length=10, description="Chapter ordinal: 一, 二…"),
    due_before: date | None = Query(None),
    due_after: date | None = Query(None),
    q: str | None = Query(None, max_length=200, description="Text the task must contain."),
    include_removed: bool = Query(False, description="Also tasks a later notice version removed."),
    limit: Limit = 50,
    offset: Offset = 0,
) -> TasksPublic:
    query = TaskQuery(
        unit=unit,
        role=role,
        leader=leader,
        notice=notice,
        chapter=chapter,
        due_before=due_before,
        due_after=due_after,
        q=q,
        include_removed=include_removed,
        limit=limit,
        offset=offset,
    )
    return _page(session, query)


@router.get("/units/{unit_id}/tasks", response_model=TasksPublic, dependencies=[READER])
def unit_tasks(
    unit_id: str,
    session: SessionDep,
    role: str | None = Query(None, pattern="^(host|co)$"),
    limit: Limit = 50,
    offset: Offset = 0,
) -> TasksPublic:
    return _page(session, TaskQuery(unit=unit_id, role=role, limit=limit, offset=offset))


@router.get("/tasks/{task_id}", response_model=TaskPublic, dependencies=[READER])
def get_task(task_id: str, session: SessionDep, response: Response) -> TaskPublic:
    task = require_task(session, task_id)
    response.headers["ETag"] = etag_of(task)
    return to_public(task, Resolver(session, [task]), LeaderBook(session))


@router.patch("/tasks/{task_id}", response_model=TaskPublic)
def patch_task(
    task_id: str,
    patch: TaskPatch,
    session: SessionDep,
    runtime: RuntimeDep,
    response: Response,
    office: OfficeDep,
    if_match: str | None = Header(None, alias="If-Match", max_length=200),
) -> TaskPublic:
    now = runtime.clock.now()
    audit(session, principal=office, action="task.correct", target=task_id, now=now, request=patch)
    task = correct_task(
        session=session,
        subjects=runtime.subjects,
        task_id=task_id,
        patch=patch,
        if_match=if_match,
        actor=office.actor,
        now=now,
    )
    runtime.relay.kick()
    response.headers["ETag"] = etag_of(task)
    return to_public(task, Resolver(session, [task]), LeaderBook(session))


@router.get("/tasks/{task_id}/audit", response_model=AuditsPublic)
def task_audit(task_id: str, session: SessionDep, _reader: OverseerDep) -> AuditsPublic:
    rows = audit_of(session, task_id)
    return AuditsPublic(data=[AuditPublic.model_validate(r, from_attributes=True) for r in rows], count=len(rows))


@router.get("/tasks/{task_id}/series", response_model=TasksPublic, dependencies=[READER])
def task_series(task_id: str, session: SessionDep) -> TasksPublic:
    require_task(session, task_id)
    rows = series_of(session, task_id)
    resolver, book = Resolver(session, rows), LeaderBook(session)
    return TasksPublic(data=[to_public(t, resolver, book) for t in rows], count=len(rows))
