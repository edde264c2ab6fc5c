"""Accepting a notice: parse, store and stage `notice.parsed` in one transaction."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from proto.notice import NoticeParsed, ParsedNotice, Supervision
from proto.subjects import Subjects
from services.common.outbox import stage
from services.common.params import without_control_characters
from services.common.supervision import check_start
from services.ingest.models import NoticeUpload
from services.ingest.parsing.api import parse_document


def notice_id_for(sha256: str) -> str:
    return sha256[:16]


Parse = Callable[[bytes, str, str | None], ParsedNotice]
MAX_FILENAME = 500  # NoticeUpload.filename


@dataclass(frozen=True)
class SupervisionChoice:
    """What the office chose on the upload form (None: the registry's default) and the upload day."""

    uploaded_on: date
    state: Supervision | None = None
    start: date | None = None


def accept_notice(
    *,
    session: Session,
    subjects: Subjects,
    data: bytes,
    filename: str,
    content_type: str | None,
    choice: SupervisionChoice,
    parse: Parse = parse_document,
) -> tuple[NoticeUpload, bool]:
    """Parse and record an upload; returns the record and whether it was new.

    Identical bytes are idempotent: the first record comes back and nothing is published again.
    A `NoticeParseError` leaves nothing written and nothing published. The service passes its
    sandbox's `parse`, so an upload is parsed in a child process with memory and time limits.
    """
    # The name is the client's to choose: no control characters, and the end (with the
    # extension the reader goes by) kept when it is too long for the column.
    filename = without_control_characters(filename)[-MAX_FILENAME:] or "notice"
    sha = hashlib.sha256(data).hexdigest()
    existing = session.exec(select(NoticeUpload).where(NoticeUpload.sha256 == sha)).first()
    if existing is not None:
        return existing, False
    parsed = parse(data, filename, content_type)
    if choice.start is not None:
        check_start(choice.start, parsed.doc.year)
    record = NoticeUpload(
        notice_id=notice_id_for(sha),
        sha256=sha,
        filename=filename,
        doc_no=parsed.doc.doc_no,
        task_count=len(parsed.tasks),
        parse_json=parsed.model_dump_json(),
    )
    session.add(record)
    event = NoticeParsed(
        source="ingest",
        correlation_id=record.notice_id,
        notice_id=record.notice_id,
        sha256=sha,
        filename=filename,
        parse=parsed,
        supervision=choice.state,
        supervision_start=choice.start,
        uploaded_on=choice.uploaded_on,
    )
    stage(session, subjects.notice_parsed, event)
    session.commit()
    return record, True


def list_notices(*, session: Session, limit: int, offset: int) -> list[NoticeUpload]:
    stmt = select(NoticeUpload).order_by(NoticeUpload.uploaded_at.desc()).offset(offset).limit(limit)  # type: ignore[attr-defined]
    return list(session.exec(stmt).all())
