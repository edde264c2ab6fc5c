"""The audit trail (留痕): one row per write a person makes, naming the authenticated caller.

A row is staged on the session before the domain function runs, so it commits in the same
transaction as the change it records and disappears with it when the change is refused. The
caller comes from the token (`Principal.actor`), never from a header the caller chooses.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from sqlalchemy import JSON, Column
from sqlmodel import Field, Session, SQLModel, col, select

from services.common.access import OFFICE
from services.common.identity import Principal
from services.common.timestamps import UtcDateTime


class AuditRecord(SQLModel, table=True):
    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(index=True, sa_type=UtcDateTime)
    actor: str = Field(index=True, max_length=120)
    role: str = Field(max_length=20)
    token_id: str = Field(max_length=16)
    action: str = Field(index=True, max_length=60)
    target: str = Field(default="", index=True, max_length=250)
    before: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    request: Any = Field(default=None, sa_column=Column(JSON, nullable=True))


def audit(
    session: Session,
    *,
    principal: Principal,
    action: str,
    target: str,
    now: datetime,
    before: Any = None,
    request: BaseModel | dict[str, Any] | None = None,
) -> AuditRecord:
    """Stage an audit row in `session`; it commits with the change it records."""
    body = request.model_dump(mode="json") if isinstance(request, BaseModel) else request
    row = AuditRecord(
        at=now,
        actor=principal.actor,
        role=principal.role,
        token_id=principal.token_id,
        action=action,
        target=target[:250],
        before=before,
        request=body,
    )
    session.add(row)
    return row


class AuditPublic(BaseModel):
    id: int
    at: datetime
    actor: str
    role: str
    token_id: str
    action: str
    target: str
    before: Any
    request: Any


class AuditsPublic(BaseModel):
    data: list[AuditPublic]
    count: int


async def _session(request: Request) -> Any:
    # services.common.deps imports the runtime, which includes this router: a local dependency
    # keeps the import graph a tree.
    with Session(request.app.state.runtime.engine) as session:
        yield session


def audit_router() -> APIRouter:
    router = APIRouter(tags=["audit"])

    @router.get("/audit", response_model=AuditsPublic, summary="The audit trail of this service (office only)")
    def list_audit(
        session: Annotated[Session, Depends(_session)],
        _office: Annotated[Principal, Depends(OFFICE)],
        action: str | None = Query(None, max_length=60),
        target: str | None = Query(None, max_length=250),
        actor: str | None = Query(None, max_length=120),
        limit: int = Query(100, ge=1, le=1000),
        offset: int = Query(0, ge=0, le=1_000_000_000),
    ) -> AuditsPublic:
        stmt = select(AuditRecord)
        for column, value in ((AuditRecord.action, action), (AuditRecord.target, target), (AuditRecord.actor, actor)):
            if value:
                stmt = stmt.where(column == value)
        rows = session.exec(stmt.order_by(col(AuditRecord.id).desc()).offset(offset).limit(limit)).all()
        return AuditsPublic(data=[AuditPublic.model_validate(r, from_attributes=True) for r in rows], count=len(rows))

    return router
