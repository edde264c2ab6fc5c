"""Link and notice routes: suggestions for the office to confirm or reject, notice history."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from sqlmodel import Session, col, select

from services.common.access import ANY_ROLE, OfficeDep
from services.common.audit import audit
from services.common.deps import RuntimeDep, SessionDep
from services.common.params import Limit, Offset, RowId
from services.registry.held import held_of
from services.registry.links import decide_link, query_links
from services.registry.models import NoticeVersion, RegistryNotice, RegistryTask, TaskLink
from services.registry.schemas import (
    HeldVersionPublic,
    LinkPublic,
    LinksPublic,
    NoticePublic,
    NoticesPublic,
    NoticeVersionPublic,
)
from services.registry.version_review import require_notice

router = APIRouter(tags=["links", "notices"])
READER = Depends(ANY_ROLE)


def _links(session: SessionDep, rows: list[TaskLink]) -> list[LinkPublic]:
    ids = {i for r in rows for i in (r.source_task_id, r.target_task_id)}
    keys = (
        dict(
            session.exec(select(RegistryTask.task_id, RegistryTask.key).where(col(RegistryTask.task_id).in_(ids))).all()
        )
        if ids
        else {}
    )
    return [
        LinkPublic(
            **r.model_dump(),
            source_key=keys.get(r.source_task_id),
            target_key=keys.get(r.target_task_id),
        )
        for r in rows
    ]


@router.get("/links", response_model=LinksPublic, dependencies=[READER])
def list_links(
    session: SessionDep,
    kind: str | None = Query(None, pattern="^(cascade|series|overlap)$"),
    status: str | None = Query(None, pattern="^(suggested|confirmed|rejected)$"),
    task: str | None = Query(None, max_length=64, description="Links of this task, either end."),
    notice: str | None = Query(None, max_length=200, description="Links touching this notice (文号)."),
    min_confidence: float = Query(0.0, ge=0.0, le=1.0),
    limit: Limit = 100,
    offset: Offset = 0,
) -> LinksPublic:
    rows, total = query_links(
        session,
        kind=kind,
        status=status,
        task_id=task,
        notice=notice,
        min_confidence=min_confidence,
        limit=limit,
        offset=offset,
    )
    return LinksPublic(data=_links(session, rows), count=total)


@router.post("/links/{link_id}/confirm", response_model=LinkPublic)
def confirm_link(link_id: RowId, session: SessionDep, runtime: RuntimeDep, office: OfficeDep) -> LinkPublic:
    now = runtime.clock.now()
    audit(session, principal=office, action="link.confirm", target=str(link_id), now=now)
    link = decide_link(session, link_id, status="confirmed", actor=office.actor, now=now)
    return _links(session, [link])[0]


@router.post("/links/{link_id}/reject", response_model=LinkPublic)
def reject_link(link_id: RowId, session: SessionDep, runtime: RuntimeDep, office: OfficeDep) -> LinkPublic:
    now = runtime.clock.now()
    audit(session, principal=office, action="link.reject", target=str(link_id), now=now)
    link = decide_link(session, link_id, status="rejected", actor=office.actor, now=now)
    return _links(session, [link])[0]


def notice_public(session: Session, notice: RegistryNotice) -> NoticePublic:
    versions = session.exec(
        select(NoticeVersion).where(NoticeVersion.doc_no == notice.doc_no).order_by(col(NoticeVersion.version))
    ).all()
    return NoticePublic(
        **notice.model_dump(exclude={"received_at"}),
        versions=[NoticeVersionPublic.model_validate(v, from_attributes=True) for v in versions],
        held_versions=[
            HeldVersionPublic.model_validate(h, from_attributes=True) for h in held_of(session, notice.doc_no)
        ],
    )


@router.get("/notices", response_model=NoticesPublic, dependencies=[READER])
def list_notices(session: SessionDep) -> NoticesPublic:
    rows = session.exec(select(RegistryNotice).order_by(RegistryNotice.doc_no)).all()
    return NoticesPublic(data=[notice_public(session, n) for n in rows], count=len(rows))


@router.get("/notices/{ref}", response_model=NoticePublic, dependencies=[READER])
def get_notice(ref: str, session: SessionDep) -> NoticePublic:
    """A notice by 文号 or upload id, with every version and its diff, and the versions held for the office."""
    return notice_public(session, require_notice(session, ref))
