from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel
from pydantic import Field as PField
from sqlmodel import Field, SQLModel

from proto.notice import ParsedNotice, ParseWarning
from services.common.timestamps import UtcDateTime


class NoticeUpload(SQLModel, table=True):
    __tablename__ = "ingest_notice"

    notice_id: str = Field(primary_key=True, max_length=32)
    sha256: str = Field(index=True, unique=True, max_length=64)
    filename: str = Field(max_length=500)
    doc_no: str | None = Field(default=None, index=True, max_length=200)
    task_count: int
    parse_json: str
    uploaded_at: datetime = Field(default_factory=lambda: datetime.now(UTC), sa_type=UtcDateTime)

    def parse(self) -> ParsedNotice:
        return ParsedNotice.model_validate_json(self.parse_json)


class NoticeAccepted(BaseModel):
    notice_id: str = PField(description="Id of the upload (sha256 prefix); the same bytes give the same id.")
    doc_no: str | None
    task_count: int
    warnings: list[ParseWarning]
    duplicate: bool = PField(default=False, description="True when these exact bytes were uploaded before.")


class NoticeSummary(BaseModel):
    notice_id: str
    doc_no: str | None
    filename: str
    task_count: int
    uploaded_at: datetime


class NoticeDetail(NoticeSummary):
    parse: ParsedNotice
