from __future__ import annotations

from fastapi import APIRouter, Header, Response, status

from services.common.deps import RuntimeDep, SessionDep
from services.common.errors import ApiError
from services.progress.flags import Thresholds
from services.progress.models import ProgressTask, ReportAccepted, ReportIn, TaskStatus
from services.progress.service import record_report, task_reports

router = APIRouter(tags=["progress"])


@router.post("/tasks/{task_id}/progress", status_code=status.HTTP_201_CREATED, response_model=ReportAccepted)
def post_progress(
    task_id: str,
    report: ReportIn,
    runtime: RuntimeDep,
    session: SessionDep,
    response: Response,
    idempotency_key: str | None = Header(default=None, max_length=200),
) -> ReportAccepted:
    settings = runtime.settings
    answer, created = record_report(
        session=session,
        subjects=runtime.subjects,
        task_id=task_id,
        report=report,
        idempotency_key=idempotency_key,
        today=runtime.clock.today(),
        thresholds=Thresholds(settings.yellow_gap, settings.red_gap),
        max_narrative_chars=settings.max_narrative_chars,
    )
    if created:
        runtime.relay.kick()
    else:
        response.headers["Idempotent-Replay"] = "true"
    return answer


@router.get("/tasks/{task_id}/status", response_model=TaskStatus)
def get_status(task_id: str, session: SessionDep) -> TaskStatus:
    task = session.get(ProgressTask, task_id)
    if task is None:
        raise ApiError(404, "task_not_found", f"未找到任务 {task_id}", f"task {task_id} not found")
    return TaskStatus(
        task_id=task.task_id,
        key=task.key,
        flag=task.flag,
        percent=task.percent,
        expected_percent=task.expected_percent,
        reason=task.reason,
        due_date=task.due_date,
        last_report_at=task.last_report_at,
        reports=[
            r.model_dump(mode="json", exclude={"idempotency_key"})
            for r in task_reports(session=session, task_id=task_id)
        ],
    )
