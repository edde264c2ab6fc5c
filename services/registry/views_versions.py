"""The office's decisions on a notice: held versions (待确认) confirmed or discarded, its supervision set."""

from __future__ import annotations

from fastapi import APIRouter, Path

from services.common.access import OfficeDep
from services.common.audit import audit
from services.common.deps import RuntimeDep, SessionDep
from services.registry.schemas import NoticePublic, SupervisionPut
from services.registry.supervision import set_supervision
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


@router.put("/notices/{ref}/supervision", response_model=NoticePublic)
@router.post("/notices/{ref}/supervision", response_model=NoticePublic, include_in_schema=False)
def put_supervision(
    ref: str, body: SupervisionPut, session: SessionDep, runtime: RuntimeDep, office: OfficeDep
) -> NoticePublic:
    """Set whether the notice is supervised (督办中), reference (参考) or archived (已归档), and from when.

    Its tasks are published again: progress judges and notify chases only a supervised notice's tasks,
    and only from the start (the state a task is in then is a baseline). POST does the same.
    """
    now = runtime.clock.now()
    notice = require_notice(session, ref, lock=True)
    start = notice.supervision_start.isoformat() if notice.supervision_start else None
    before = {"state": notice.supervision, "start": start}
    audit(
        session,
        principal=office,
        action="notice.supervision",
        target=notice.doc_no,
        now=now,
        before=before,
        request=body,
    )
    published = set_supervision(
        session=session,
        subjects=runtime.subjects,
        notice=notice,
        state=body.state,
        start=body.start,
        today=runtime.clock.today(),
        now=now,
    )
    session.commit()
    if published:
        runtime.relay.kick()
    return notice_public(session, notice)
