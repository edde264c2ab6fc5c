"""Corrections by the office: optimistic concurrency, validation first, an audit entry each."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlmodel import Session, select

from proto.subjects import Subjects
from services.common.errors import ApiError
from services.common.params import YEARS_AROUND_NOTICE, near_year
from services.registry.directory import find_unit
from services.registry.models import AuditEntry, RegistryTask
from services.registry.posts import known_leaders
from services.registry.publish import publish_tasks, sync_assignments
from services.registry.schemas import TaskPatch
from services.registry.versions import apply_effective


def etag_of(task: RegistryTask) -> str:
    return f'"{task.task_id}.v{task.version}"'


def require_task(session: Session, task_id: str) -> RegistryTask:
    task = session.get(RegistryTask, task_id)
    if task is None:
        raise ApiError(404, "task_not_found", f"未找到任务 {task_id}", f"task {task_id} not found")
    return task


def _check_precondition(task: RegistryTask, if_match: str | None) -> None:
    if if_match is None:
        raise ApiError(
            428,
            "if_match_required",
            "更正任务须带 If-Match 请求头（先 GET 任务取得 ETag）",
            "a correction needs an If-Match header with the task's ETag (GET the task first)",
        )
    tags = {t.strip() for t in if_match.split(",")}
    if "*" not in tags and etag_of(task) not in tags and etag_of(task).removeprefix("W/") not in tags:
        raise ApiError(
            412,
            "etag_mismatch",
            "任务已被他人修改，请刷新后重试",
            "the task changed since you read it; reload and try again",
            detail={"etag": etag_of(task)},
        )


def _unit_names(session: Session, refs: list[str], field: str, unknown: list[str]) -> list[str]:
    names = []
    for ref in refs:
        unit = find_unit(session, ref)
        if unit is None:
            unknown.append(ref)
        else:
            # An id typed by the office is stored as the name it stands for; a name stays as written.
            names.append(unit.name if ref.strip() == unit.unit_id else ref.strip())
    return names


def _check_due_date(task: RegistryTask, due: str | None) -> None:
    if due and not near_year(date.fromisoformat(due), task.year):
        raise ApiError(
            422,
            "due_date_out_of_range",
            f"完成时限 {due} 距通知年份 {task.year} 超过 {YEARS_AROUND_NOTICE} 年",
            f"due date {due} is more than {YEARS_AROUND_NOTICE} years from the notice's year {task.year}",
        )


def correct_task(
    *,
    session: Session,
    subjects: Subjects,
    task_id: str,
    patch: TaskPatch,
    if_match: str | None,
    actor: str,
    now: datetime,
) -> RegistryTask:
    """Apply a correction; everything is checked before anything is written."""
    task = require_task(session, task_id)
    _check_precondition(task, if_match)
    sent = patch.model_dump(mode="json", exclude_unset=True)
    if not sent:
        raise ApiError(422, "empty_correction", "没有要更正的字段", "the correction changes no field")
    unknown_units: list[str] = []
    for field in ("host_units", "co_units"):
        if field in sent:
            if sent[field] is None:
                sent[field] = []
            sent[field] = _unit_names(session, sent[field], field, unknown_units)
    unknown_leaders: list[str] = []
    if "leaders" in sent:
        leaders = [n.strip() for n in sent["leaders"] or [] if n.strip()]
        known = known_leaders(session, leaders)
        unknown_leaders = [n for n in leaders if n not in known]
        sent["leaders"] = leaders
    _check_due_date(task, sent.get("due_date"))
    if "text" in sent and sent["text"] is None:
        raise ApiError(422, "empty_text", "任务内容不能为空", "the task text cannot be empty")
    if unknown_units or unknown_leaders:
        parts_zh, parts_en = [], []
        if unknown_units:
            parts_zh.append(f"目录中没有这些单位：{'、'.join(unknown_units)}")
            parts_en.append(f"units not in the directory: {', '.join(unknown_units)}")
        if unknown_leaders:
            parts_zh.append(f"未知的领导：{'、'.join(unknown_leaders)}")
            parts_en.append(f"unknown leaders: {', '.join(unknown_leaders)}")
        raise ApiError(
            422,
            "unknown_reference",
            "；".join(parts_zh),
            "; ".join(parts_en),
            detail={"unknown_units": unknown_units, "unknown_leaders": unknown_leaders},
        )
    if task.removed:
        raise ApiError(
            409,
            "task_removed",
            "该任务已不在通知的最新版本中，不能更正",
            "the task is not in the notice's latest version and cannot be corrected",
        )
    before = {k: _jsonable(getattr(task, k)) for k in sent}
    changes = {k: {"before": before[k], "after": v} for k, v in sent.items() if before[k] != v}
    if not changes:
        return task
    corrections = dict(task.corrections)
    for key, value in sent.items():
        # Setting a field back to what the notice says is no longer a correction.
        if task.parsed.get(key) == value:
            corrections.pop(key, None)
        else:
            corrections[key] = value
    task.corrections = corrections
    apply_effective(task)
    task.version += 1
    task.updated_at = now
    session.add(task)
    session.flush()
    if {"host_units", "co_units", "leaders"} & changes.keys():
        sync_assignments(session, task)
    session.add(
        AuditEntry(task_id=task.task_id, at=now, actor=actor, action="correct", changes=changes, version=task.version)
    )
    publish_tasks(session, subjects, [task], correlation_id=f"correction-{task.task_id}-v{task.version}")
    session.commit()
    return task


def _jsonable(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def audit_of(session: Session, task_id: str) -> list[AuditEntry]:
    require_task(session, task_id)
    return list(
        session.exec(select(AuditEntry).where(AuditEntry.task_id == task_id).order_by(AuditEntry.id)).all()  # type: ignore[arg-type]
    )
