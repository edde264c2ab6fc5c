from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, UploadFile, status

from proto.notice import Supervision
from services.common.access import OFFICE_OR_SUPERVISOR, OfficeDep
from services.common.audit import audit
from services.common.deps import RuntimeDep, SessionDep
from services.common.errors import ApiError
from services.common.params import Day, Limit, Offset
from services.ingest.models import NoticeAccepted, NoticeDetail, NoticeSummary, NoticeUpload
from services.ingest.parsing.errors import NoticeParseError
from services.ingest.service import SupervisionChoice, accept_notice, list_notices

router = APIRouter(tags=["notices"])
# Uploads are the office's; the uploaded files and their parses are read by the office and supervisors.
OVERSEER = Depends(OFFICE_OR_SUPERVISOR)

STATE_HELP = (
    "督办中 supervised, 参考 reference or 已归档 archived; default: supervised for a notice of this year, "
    "reference for an older one. Applies to a new notice, or changes a registered one's state."
)
START_HELP = "The day supervision starts (the notice's year ± 1); default: today, for a new notice."

# Codes of NoticeParseError that mean "we do not take this kind of file" rather than "this file is bad"
# (converter_missing: this server lacks the program that reads it, e.g. LibreOffice for .doc).
_UNSUPPORTED = {"unsupported_type", "converter_missing"}


@router.post("/notices", status_code=status.HTTP_202_ACCEPTED, response_model=NoticeAccepted)
def upload_notice(
    runtime: RuntimeDep,
    session: SessionDep,
    office: OfficeDep,
    file: UploadFile = File(description="txt, md, docx, doc, wps, xlsx, xls or pdf (a scanned PDF is read by OCR)"),
    supervision: Annotated[Supervision | None, Form(description=STATE_HELP)] = None,
    supervision_start: Annotated[Day | None, Form(description=START_HELP)] = None,
) -> NoticeAccepted:
    # A sync route: FastAPI runs it in a worker thread, so parsing a large PDF never blocks the loop.
    limit = runtime.settings.max_upload_bytes
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise ApiError(
            413,
            "too_large",
            f"文件超过 {limit // (1024 * 1024)} MB 上限",
            f"the file is larger than the {limit} byte limit",
        )
    audit(
        session,
        principal=office,
        action="notice.upload",
        target=file.filename or "notice",
        now=runtime.clock.now(),
        request={
            "filename": file.filename,
            "bytes": len(data),
            "content_type": file.content_type,
            "supervision": supervision,
            "supervision_start": supervision_start.isoformat() if supervision_start else None,
        },
    )
    choice = SupervisionChoice(uploaded_on=runtime.clock.today(), state=supervision, start=supervision_start)
    try:
        record, created = accept_notice(
            session=session,
            subjects=runtime.subjects,
            data=data,
            filename=file.filename or "notice",
            content_type=file.content_type,
            choice=choice,
            parse=runtime.sandbox.parse,
        )
    except NoticeParseError as exc:
        session.rollback()
        zh, _, en = exc.message.partition(" / ")
        raise ApiError(415 if exc.code in _UNSUPPORTED else 422, exc.code, zh, en or zh) from exc
    if created:
        runtime.relay.kick()
    parsed = record.parse()
    return NoticeAccepted(
        notice_id=record.notice_id,
        doc_no=record.doc_no,
        task_count=record.task_count,
        warnings=parsed.warnings,
        duplicate=not created,
    )


@router.get("/notices", response_model=list[NoticeSummary], dependencies=[OVERSEER])
def get_notices(session: SessionDep, limit: Limit = 50, offset: Offset = 0) -> list[NoticeSummary]:
    return [
        NoticeSummary.model_validate(r, from_attributes=True)
        for r in list_notices(session=session, limit=limit, offset=offset)
    ]


@router.get("/notices/{notice_id}", response_model=NoticeDetail, dependencies=[OVERSEER])
def get_notice(notice_id: str, session: SessionDep) -> NoticeDetail:
    record = session.get(NoticeUpload, notice_id)
    if record is None:
        raise ApiError(404, "notice_not_found", f"未找到通知 {notice_id}", f"notice {notice_id} not found")
    return NoticeDetail(
        notice_id=record.notice_id,
        doc_no=record.doc_no,
        filename=record.filename,
        task_count=record.task_count,
        uploaded_at=record.uploaded_at,
        parse=record.parse(),
    )
