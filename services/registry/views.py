from __future__ import annotations

from fastapi import APIRouter, Query

from services.common.deps import SessionDep
from services.common.errors import ApiError
from services.registry.models import RegistryTask, TaskPublic, TasksPublic
from services.registry.service import query_tasks, to_public

router = APIRouter(tags=["tasks"])


@router.get("/tasks", response_model=TasksPublic)
def list_tasks(
    session: SessionDep,
    unit: str | None = Query(None, max_length=200, description="A host or co-unit name."),
    leader: str | None = Query(None, max_length=100),
    notice: str | None = Query(None, max_length=200, description="A notice id or doc_no."),
    q: str | None = Query(None, max_length=200, description="Text the task must contain."),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0),
) -> TasksPublic:
    rows, total = query_tasks(session=session, unit=unit, leader=leader, notice=notice, q=q, limit=limit, offset=offset)
    return TasksPublic(data=[to_public(t) for t in rows], count=total)


@router.get("/tasks/{task_id}", response_model=TaskPublic)
def get_task(task_id: str, session: SessionDep) -> TaskPublic:
    task = session.get(RegistryTask, task_id)
    if task is None:
        raise ApiError(404, "task_not_found", f"未找到任务 {task_id}", f"task {task_id} not found")
    return to_public(task)
