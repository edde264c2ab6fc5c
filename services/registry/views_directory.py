"""Directory routes: units (map, merge, groups), leaders' posts, import and export."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy import func
from sqlmodel import col, select

from services.common.access import ANY_ROLE, OFFICE_OR_SUPERVISOR, OfficeDep
from services.common.audit import audit
from services.common.deps import RuntimeDep, SessionDep
from services.common.errors import ApiError
from services.common.params import Limit, Offset
from services.registry.contacts import stage_contact
from services.registry.directory import Groups, add_alias, merge_units, require_unit, set_members, upsert_unit
from services.registry.directory_io import (
    export_directory,
    import_directory,
    render_directory,
)
from services.registry.directory_models import Post, PostHolder, Unit, UnitAlias
from services.registry.models import Assignment
from services.registry.posts import post_id_for, tasks_of_post, upsert_post
from services.registry.publish import republish
from services.registry.schemas import (
    HolderChange,
    ImportReport,
    MergeRequest,
    PostPublic,
    PostPut,
    PostsPublic,
    UnitCreate,
    UnitPatch,
    UnitPublic,
    UnitsPublic,
)

router = APIRouter(tags=["directory"])
# Names of units and posts are public knowledge; the export carries the whole directory with its
# rules and is for the office and supervisors; every change is the office's.
READER = Depends(ANY_ROLE)

FORMATS = {"yaml": "application/yaml; charset=utf-8", "csv": "text/csv; charset=utf-8"}


def _public(session: SessionDep, units: list[Unit]) -> list[UnitPublic]:
    ids = [u.unit_id for u in units]
    aliases: dict[str, list[str]] = {}
    counts: dict[str, int] = {}
    if ids:
        for row in session.exec(select(UnitAlias).where(col(UnitAlias.unit_id).in_(ids))).all():
            aliases.setdefault(row.unit_id, []).append(row.alias)
        stmt = (
            select(Assignment.unit_id, func.count(func.distinct(Assignment.task_id)))
            .where(col(Assignment.unit_id).in_(ids))
            .group_by(Assignment.unit_id)
        )
        counts = {unit_id: int(n) for unit_id, n in session.exec(stmt).all()}
    groups = Groups(session)
    return [
        UnitPublic(
            unit_id=u.unit_id,
            name=u.name,
            kind=u.kind,
            parent_id=u.parent_id,
            provisional=u.provisional,
            is_group=u.is_group,
            aliases=sorted(a for a in aliases.get(u.unit_id, []) if a != u.name),
            members=groups.members(u.unit_id) if u.is_group else [],
            member_kinds=list(u.member_kinds),
            merged_into=u.merged_into,
            task_count=counts.get(u.unit_id, 0),
        )
        for u in units
    ]


@router.get("/units", response_model=UnitsPublic, dependencies=[READER])
def list_units(
    session: SessionDep,
    provisional: bool | None = Query(None, description="true: the names still to map or merge."),
    kind: str | None = Query(None, max_length=20),
    q: str | None = Query(None, max_length=100, description="Part of the name."),
    limit: Limit = 100,
    offset: Offset = 0,
) -> UnitsPublic:
    stmt = select(Unit).where(col(Unit.merged_into).is_(None))
    if provisional is not None:
        stmt = stmt.where(Unit.provisional == provisional)
    if kind:
        stmt = stmt.where(Unit.kind == kind)
    if q:
        stmt = stmt.where(col(Unit.name).contains(q))
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    rows = session.exec(stmt.order_by(Unit.name).offset(offset).limit(limit)).all()
    return UnitsPublic(data=_public(session, list(rows)), count=int(total))


@router.post("/units", response_model=UnitPublic, status_code=201)
def create_unit(body: UnitCreate, session: SessionDep, runtime: RuntimeDep, office: OfficeDep) -> UnitPublic:
    audit(session, principal=office, action="unit.create", target=body.name, now=runtime.clock.now(), request=body)
    unit, affected = upsert_unit(
        session,
        name=body.name,
        kind=body.kind,
        parent=body.parent,
        aliases=body.aliases,
        is_group=body.is_group,
        member_kinds=body.member_kinds,
        member_parent=body.member_parent,
    )
    if body.members is not None:
        affected |= set_members(session, unit, body.members)
    stage_contact(session, runtime.subjects, unit)  # notify learns the unit (and its contact)
    republish(session, runtime.subjects, affected, now=runtime.clock.now(), correlation_id=f"unit-{unit.unit_id}")
    session.commit()
    runtime.relay.kick()
    return _public(session, [unit])[0]


@router.get("/units/{unit_id}", response_model=UnitPublic, dependencies=[READER])
def get_unit(unit_id: str, session: SessionDep) -> UnitPublic:
    return _public(session, [require_unit(session, unit_id)])[0]


@router.patch("/units/{unit_id}", response_model=UnitPublic)
def patch_unit(
    unit_id: str, body: UnitPatch, session: SessionDep, runtime: RuntimeDep, office: OfficeDep
) -> UnitPublic:
    """Map a provisional unit: confirm it, name it, give it a kind, parent, aliases or members."""
    unit = require_unit(session, unit_id)
    before = _public(session, [unit])[0].model_dump(mode="json")
    audit(
        session,
        principal=office,
        action="unit.patch",
        target=unit_id,
        now=runtime.clock.now(),
        before=before,
        request=body,
    )
    affected: set[str] = set()
    if body.name and body.name != unit.name:
        old = unit.name
        unit, touched = upsert_unit(session, name=body.name, kind=body.kind or unit.kind, aliases=[old])
        affected |= touched
        if unit.unit_id != unit_id:
            affected |= merge_units(session, unit_id, unit.unit_id)
    unit, touched = upsert_unit(
        session,
        name=unit.name,
        kind=body.kind or unit.kind,
        parent=body.parent,
        aliases=body.aliases,
        member_kinds=body.member_kinds,
    )
    affected |= touched
    if body.provisional:
        unit.provisional = True
        session.add(unit)
    if body.members is not None:
        affected |= set_members(session, unit, body.members)
    stage_contact(session, runtime.subjects, unit)  # notify learns the unit (and its contact)
    republish(session, runtime.subjects, affected, now=runtime.clock.now(), correlation_id=f"unit-{unit.unit_id}")
    session.commit()
    runtime.relay.kick()
    return _public(session, [unit])[0]


@router.post("/units/{unit_id}/merge", response_model=UnitPublic)
def merge_unit(
    unit_id: str, body: MergeRequest, session: SessionDep, runtime: RuntimeDep, office: OfficeDep
) -> UnitPublic:
    """Merge a unit (usually a provisional one) into another: every assignment is re-pointed."""
    audit(session, principal=office, action="unit.merge", target=unit_id, now=runtime.clock.now(), request=body)
    source = require_unit(session, unit_id)
    target = require_unit(session, body.into)
    affected = merge_units(session, source.unit_id, target.unit_id)
    affected |= add_alias(session, target, source.name)
    republish(session, runtime.subjects, affected, now=runtime.clock.now(), correlation_id=f"merge-{source.unit_id}")
    session.commit()
    runtime.relay.kick()
    return _public(session, [target])[0]


def _posts(session: SessionDep, posts: list[Post]) -> list[PostPublic]:
    holders = session.exec(select(PostHolder).order_by(col(PostHolder.id))).all()
    out = []
    for post in posts:
        rows = [h for h in holders if h.post_id == post.post_id]
        current = next((h.name for h in rows if h.until is None), None)
        past = [h.name for h in rows if h.until is not None]
        out.append(
            PostPublic(post_id=post.post_id, title=post.title, holder=current, past_holders=past, unit_id=post.unit_id)
        )
    return out


@router.get("/posts", response_model=PostsPublic, dependencies=[READER])
def list_posts(session: SessionDep) -> PostsPublic:
    posts = list(session.exec(select(Post).order_by(Post.title)).all())
    return PostsPublic(data=_posts(session, posts), count=len(posts))


@router.put("/posts", response_model=PostPublic)
def put_post(body: PostPut, session: SessionDep, runtime: RuntimeDep, office: OfficeDep) -> PostPublic:
    audit(session, principal=office, action="post.put", target=body.title, now=runtime.clock.now(), request=body)
    unit_id = require_unit(session, body.unit).unit_id if body.unit else None
    post, changed = upsert_post(
        session,
        title=body.title,
        holder=body.holder,
        since=body.since,
        past_holders=body.past_holders,
        unit_id=unit_id,
        today=runtime.clock.today(),
    )
    affected = tasks_of_post(session, post.post_id) if changed else set()
    stage_contact(session, runtime.subjects, post)  # notify learns the post (and its contact)
    republish(session, runtime.subjects, affected, now=runtime.clock.now(), correlation_id=f"post-{post.post_id}")
    session.commit()
    runtime.relay.kick()
    return _posts(session, [post])[0]


@router.post("/posts/{post_id}/holder", response_model=PostPublic)
def change_holder(
    post_id: str, body: HolderChange, session: SessionDep, runtime: RuntimeDep, office: OfficeDep
) -> PostPublic:
    """A successor takes the post: every task of the post is republished with the new holder."""
    audit(session, principal=office, action="post.holder", target=post_id, now=runtime.clock.now(), request=body)
    post = session.get(Post, post_id) or session.get(Post, post_id_for(post_id))
    if post is None:
        raise ApiError(404, "post_not_found", f"未找到职务 {post_id}", f"post {post_id} not found")
    _post, changed = upsert_post(
        session, title=post.title, holder=body.holder, since=body.since, today=runtime.clock.today()
    )
    affected = tasks_of_post(session, post.post_id) if changed else set()
    stage_contact(session, runtime.subjects, post)  # notify learns the post (and its contact)
    republish(session, runtime.subjects, affected, now=runtime.clock.now(), correlation_id=f"post-{post.post_id}")
    session.commit()
    runtime.relay.kick()
    return _posts(session, [post])[0]


@router.get("/directory/export", dependencies=[Depends(OFFICE_OR_SUPERVISOR)])
def export(session: SessionDep, format: str = Query("yaml", pattern="^(yaml|csv)$")) -> Response:
    return Response(render_directory(export_directory(session), format), media_type=FORMATS[format])


@router.post("/directory/import", response_model=ImportReport)
async def import_(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    office: OfficeDep,
    format: str = Query("yaml", pattern="^(yaml|csv)$"),
) -> ImportReport:
    # The body is capped at MAX_DIRECTORY_BYTES while it is read (the app's BodyLimit, `too_large`).
    raw = await request.body()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ApiError(422, "bad_encoding", "目录文件须为 UTF-8 编码", "the directory file must be UTF-8") from exc
    now = runtime.clock.now()
    audit(session, principal=office, action="directory.import", target=format, now=now, request={"bytes": len(raw)})
    report = import_directory(
        session, runtime.subjects, text, format, now=now, actor=office.actor, zone=runtime.clock.zone
    )
    runtime.relay.kick()
    return report
