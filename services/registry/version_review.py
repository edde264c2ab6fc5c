"""The office's review of a held version: confirm it (applied as any new version) or discard it."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from proto.notice import NoticeParsed
from proto.subjects import Subjects
from proto.task import task_id_for
from services.common.errors import ApiError
from services.registry.held import PENDING, decide
from services.registry.models import AuditEntry, HeldVersion, NoticeVersion, RegistryNotice, RegistryTask
from services.registry.search import notice_doc_nos
from services.registry.versions import Incoming, Registered, apply_version, plan_version

STATUS_ZH = {"confirmed": "已确认", "discarded": "已放弃", "superseded": "已被新版本取代"}


def require_notice(session: Session, ref: str, *, lock: bool = False) -> RegistryNotice:
    """A notice by 文号 or upload id, a held upload's too; `lock` holds its row so a concurrent version waits."""
    held = session.exec(select(HeldVersion.doc_no).where(HeldVersion.notice_id == ref)).all()
    for doc_no in sorted({*notice_doc_nos(session, ref), *held}):
        stmt = select(RegistryNotice).where(RegistryNotice.doc_no == doc_no)
        notice = session.exec(stmt.with_for_update() if lock else stmt).first()
        if notice is not None:
            return notice
    raise ApiError(404, "notice_not_found", f"未找到通知 {ref}", f"notice {ref} not found")


def require_pending(session: Session, notice: RegistryNotice, version: int) -> HeldVersion:
    held = session.exec(
        select(HeldVersion).where(HeldVersion.doc_no == notice.doc_no, HeldVersion.version == version)
    ).first()
    if held is None:
        applied = session.exec(
            select(NoticeVersion).where(NoticeVersion.doc_no == notice.doc_no, NoticeVersion.version == version)
        ).first()
        if applied is None:
            raise ApiError(
                404,
                "version_not_found",
                f"通知 {notice.doc_no} 没有第 {version} 版",
                f"notice {notice.doc_no} has no version {version}",
            )
        raise _not_pending(notice, version, "applied", "已生效，无需确认")
    # The version in force moved on (a concurrent upload): the diff no longer says what it would do.
    if held.status == PENDING and held.based_on != notice.version:
        raise _not_pending(notice, version, "superseded", STATUS_ZH["superseded"])
    if held.status != PENDING:
        raise _not_pending(notice, version, held.status, STATUS_ZH.get(held.status, held.status))
    return held


def _not_pending(notice: RegistryNotice, version: int, status: str, zh: str) -> ApiError:
    return ApiError(
        409,
        "version_not_pending",
        f"通知 {notice.doc_no} 第 {version} 版不是待确认版本（{zh}）",
        f"version {version} of notice {notice.doc_no} is not pending ({status})",
        detail={"status": status},
    )


def confirm_version(
    *, session: Session, subjects: Subjects, ref: str, version: int, actor: str, now: datetime
) -> Registered:
    """Apply a held version exactly as it would have applied on arrival, in the confirmer's name."""
    notice = require_notice(session, ref, lock=True)
    held = require_pending(session, notice, version)
    assert held.event is not None, "a pending version keeps its notice.parsed payload"
    incoming = Incoming.of(NoticeParsed.model_validate(held.event))
    plan = plan_version(session, incoming)
    note = f"第 {version} 版待确认，由 {actor} 确认生效"
    registered = apply_version(session, subjects, incoming, plan, version=version, now=now, actor=actor, note=note)
    decide(session, held, status="confirmed", actor=actor, now=now)
    session.commit()
    return registered


def discard_version(*, session: Session, ref: str, version: int, actor: str, now: datetime) -> HeldVersion:
    """Drop a held version; each task it would have removed or changed notes who kept it."""
    notice = require_notice(session, ref, lock=True)
    held = require_pending(session, notice, version)
    numbers = [*held.diff.get("removed", []), *(c["number"] for c in held.diff.get("changed", []))]
    for number in sorted(numbers):
        task = session.get(RegistryTask, task_id_for(notice.doc_no, number))
        if task is None:
            continue
        session.add(
            AuditEntry(
                task_id=task.task_id,
                at=now,
                actor=actor,
                action="discard_version",
                changes={},
                version=task.version,
                note=f"第 {version} 版待确认（将删除或改动此任务），由 {actor} 放弃",
            )
        )
    decide(session, held, status="discarded", actor=actor, now=now)
    session.commit()
    return held
