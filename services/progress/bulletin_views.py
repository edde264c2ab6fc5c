"""Bulletin routes: the office drafts, edits and publishes; office and supervisors read every bulletin.

A unit reads published bulletins only (a 通报 is sent to the units anyway; a draft is the
office's work in progress, and answers 404 to a unit as if it did not exist).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from sqlmodel import Session

from services.common.access import AnyRoleDep, OfficeDep
from services.common.audit import audit
from services.common.deps import RuntimeDep, SessionDep
from services.common.identity import Principal
from services.common.params import Limit, Offset
from services.common.runtime import ServiceRuntime
from services.progress import bulletin_docx, bulletin_html, bulletin_xlsx, bulletins
from services.progress.bulletin_sections import document
from services.progress.gate import WriteGate
from services.progress.models import Bulletin
from services.progress.schemas import BulletinIn, BulletinPatch, BulletinPublic, BulletinsPublic
from services.progress.status import Rules

router = APIRouter(tags=["bulletins"])

_Id = Annotated[str, Path(min_length=1, max_length=64, description="The bulletin's id.")]


async def _gate(request: Request) -> WriteGate:
    return request.app.state.write_gate  # type: ignore[no-any-return]


async def _rules(request: Request) -> Rules:
    return request.app.state.rules  # type: ignore[no-any-return]


GateDep = Annotated[WriteGate, Depends(_gate)]
RulesDep = Annotated[Rules, Depends(_rules)]


def public(row: Bulletin, *, figures: bool = True) -> BulletinPublic:
    return BulletinPublic.model_validate(
        {**row.model_dump(exclude={"figures"}), "links": bulletins.links(row.bulletin_id)}
        | ({"figures": row.figures} if figures else {})
    )


def _readable(session: Session, bulletin_id: str, reader: Principal) -> Bulletin:
    return bulletins.get(session, bulletin_id, published_only=reader.role == "unit")


def _file(session: Session, runtime: ServiceRuntime[Any], bulletin_id: str, reader: Principal, fmt: str) -> Response:
    row = _readable(session, bulletin_id, reader)
    doc = document(row, runtime.settings.bulletin_issuer, runtime.clock.zone)
    name = quote(f"{row.doc_no or row.title}.{fmt}")
    disposition = {"Content-Disposition": f"attachment; filename=bulletin.{fmt}; filename*=UTF-8''{name}"}
    if fmt == "docx":
        media = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        return Response(bulletin_docx.render(doc), media_type=media, headers=disposition)
    if fmt == "xlsx":
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return Response(bulletin_xlsx.render(doc), media_type=media, headers=disposition)
    return Response(bulletin_html.render(doc), media_type="text/html; charset=utf-8")


# The renderings first: `/bulletins/{id}` would take `abc.docx` as an id.
@router.get("/bulletins/{bulletin_id}.docx", response_class=Response, summary="A bulletin as .docx")
def get_bulletin_docx(bulletin_id: _Id, reader: AnyRoleDep, runtime: RuntimeDep, session: SessionDep) -> Response:
    return _file(session, runtime, bulletin_id, reader, "docx")


@router.get("/bulletins/{bulletin_id}.html", response_class=Response, summary="A bulletin as HTML")
def get_bulletin_html(bulletin_id: _Id, reader: AnyRoleDep, runtime: RuntimeDep, session: SessionDep) -> Response:
    return _file(session, runtime, bulletin_id, reader, "html")


@router.get("/bulletins/{bulletin_id}.xlsx", response_class=Response, summary="A bulletin as .xlsx")
def get_bulletin_xlsx(bulletin_id: _Id, reader: AnyRoleDep, runtime: RuntimeDep, session: SessionDep) -> Response:
    return _file(session, runtime, bulletin_id, reader, "xlsx")


@router.get("/bulletins", response_model=BulletinsPublic)
def get_bulletins(
    reader: AnyRoleDep,
    session: SessionDep,
    state: Literal["draft", "published"] | None = Query(None, description="Only drafts or only published ones."),
    limit: Limit = 100,
    offset: Offset = 0,
) -> BulletinsPublic:
    if reader.role == "unit":  # a unit reads published bulletins only
        rows = [] if state == "draft" else bulletins.listing(session, state="published", limit=limit, offset=offset)
    else:
        rows = bulletins.listing(session, state=state, limit=limit, offset=offset)
    data = [public(r, figures=False) for r in rows]
    return BulletinsPublic(data=data, count=len(data))


@router.post("/bulletins", status_code=status.HTTP_201_CREATED, response_model=BulletinPublic)
def post_bulletin(
    body: BulletinIn, office: OfficeDep, runtime: RuntimeDep, session: SessionDep, gate: GateDep, rules: RulesDep
) -> BulletinPublic:
    now = runtime.clock.now()
    period = bulletins.period_of(label=body.period, start=body.from_, end=body.to, today=runtime.clock.today())
    layout = bulletins.Layout.from_settings(runtime.settings)
    if body.main_to is not None:
        layout = replace(layout, main_to=tuple(body.main_to))
    if body.copy_to is not None:
        layout = replace(layout, copy_to=tuple(body.copy_to))
    with gate:
        doc_nos = bulletins.resolve_notices(session, body.notices)
        audit(session, principal=office, action="bulletin.draft", target=",".join(doc_nos), now=now, request=body)
        row = bulletins.create_draft(
            session=session,
            doc_nos=doc_nos,
            period=period,
            rules=rules,
            layout=layout,
            now=now,
            actor=office.actor,
            comments=body.comments,
        )
    return public(row)


@router.get("/bulletins/{bulletin_id}", response_model=BulletinPublic)
def get_bulletin(bulletin_id: _Id, reader: AnyRoleDep, session: SessionDep) -> BulletinPublic:
    return public(_readable(session, bulletin_id, reader))


@router.patch("/bulletins/{bulletin_id}", response_model=BulletinPublic)
def patch_bulletin(
    bulletin_id: _Id, body: BulletinPatch, office: OfficeDep, runtime: RuntimeDep, session: SessionDep, gate: GateDep
) -> BulletinPublic:
    now = runtime.clock.now()
    with gate:
        audit(session, principal=office, action="bulletin.edit", target=bulletin_id, now=now, request=body)
        row = bulletins.edit(
            session=session,
            bulletin_id=bulletin_id,
            comments=body.comments,
            main_to=body.main_to,
            copy_to=body.copy_to,
            now=now,
        )
    return public(row)


@router.post("/bulletins/{bulletin_id}/publish", response_model=BulletinPublic)
def post_bulletin_publish(
    bulletin_id: _Id, office: OfficeDep, runtime: RuntimeDep, session: SessionDep, gate: GateDep, rules: RulesDep
) -> BulletinPublic:
    now = runtime.clock.now()
    with gate:
        audit(session, principal=office, action="bulletin.publish", target=bulletin_id, now=now)
        row = bulletins.publish(
            session=session,
            subjects=runtime.subjects,
            bulletin_id=bulletin_id,
            rules=rules,
            layout=bulletins.Layout.from_settings(runtime.settings),
            now=now,
            actor=office.actor,
        )
    runtime.relay.kick()
    return public(row)
