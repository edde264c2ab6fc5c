"""Held notice versions (待确认): the office confirms or discards one."""

from __future__ import annotations

from fastapi import APIRouter, Path

from services.common.access import OfficeDep
from services.common.audit import audit
from services.common.deps import RuntimeDep, SessionDep
from services.registry.schemas import NoticePublic
from services.registry.version_review import confirm_version, discard_version, require_notice
from services.registry.views_links import notice_public

router = APIRouter(tags=["notices"])

VersionNumber = Path(ge=1, le=1_000_000, description="The held version's number, as in `held_versions`.")


@router.post("/notices/{ref}/versions/{version}/confirm", response_model=NoticePublic)
def confirm_held_version(
    ref: str, session: SessionDep, runtime: RuntimeDep, office: OfficeDep, version: int = VersionNumber
) -> NoticePublic:
    """Apply a pending version as any new version: removed tasks are published with `removed=true`."""
    now = runtime.clock.now()
    audit(session, principal=office, action="notice.version.confirm", target=f"{ref}#v{version}", now=now)
    registered = confirm_version(
        session=session, subjects=runtime.subjects, ref=ref, version=version, actor=office.actor, now=now
    )
    if registered:
        runtime.relay.kick()
    return notice_public(session, require_notice(session, ref))


@router.post("/notices/{ref}/versions/{version}/discard", response_model=NoticePublic)
def discard_held_version(
    ref: str, session: SessionDep, runtime: RuntimeDep, office: OfficeDep, version: int = VersionNumber
) -> NoticePublic:
    """Drop a pending version; the version in force stays."""
    now = runtime.clock.now()
    audit(session, principal=office, action="notice.version.discard", target=f"{ref}#v{version}", now=now)
    discard_version(session=session, ref=ref, version=version, actor=office.actor, now=now)
    return notice_public(session, require_notice(session, ref))
