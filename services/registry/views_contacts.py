"""Routes for the contact fields of units and posts (office only); the secret is never returned."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from services.common.access import OfficeDep
from services.common.audit import audit
from services.common.deps import RuntimeDep, SessionDep
from services.common.errors import ApiError
from services.registry.contacts import ContactIn, ContactPublic, public, set_contact
from services.registry.directory import require_unit
from services.registry.directory_models import Post

router = APIRouter(tags=["directory"])
Ref = Annotated[str, Path(min_length=1, max_length=200)]


def _require_post(session: SessionDep, post_id: str) -> Post:
    post = session.get(Post, post_id)
    if post is None:
        raise ApiError(404, "post_not_found", f"未找到职务 {post_id}", f"post {post_id} not found")
    return post


def _audited(body: ContactIn) -> dict[str, object]:
    data = body.model_dump(mode="json", exclude_unset=True)
    if data.get("robot_secret"):
        data["robot_secret"] = "***"
    return data


@router.get("/units/{unit_id}/contact", response_model=ContactPublic)
def get_unit_contact(unit_id: Ref, session: SessionDep, _office: OfficeDep) -> ContactPublic:
    return public("unit", require_unit(session, unit_id))


@router.put("/units/{unit_id}/contact", response_model=ContactPublic)
def put_unit_contact(
    unit_id: Ref, body: ContactIn, session: SessionDep, runtime: RuntimeDep, office: OfficeDep
) -> ContactPublic:
    """Set a unit's group robot and address; notify makes its default subscriptions from them."""
    unit = require_unit(session, unit_id)
    audit(
        session,
        principal=office,
        action="unit.contact",
        target=unit.unit_id,
        now=runtime.clock.now(),
        request=_audited(body),
    )
    set_contact(session, runtime.subjects, unit, body)
    session.commit()
    runtime.relay.kick()
    return public("unit", unit)


@router.get("/posts/{post_id}/contact", response_model=ContactPublic)
def get_post_contact(post_id: Ref, session: SessionDep, _office: OfficeDep) -> ContactPublic:
    return public("post", _require_post(session, post_id))


@router.put("/posts/{post_id}/contact", response_model=ContactPublic)
def put_post_contact(
    post_id: Ref, body: ContactIn, session: SessionDep, runtime: RuntimeDep, office: OfficeDep
) -> ContactPublic:
    """Set a leader's post's robot and address: whoever holds the post reads them."""
    post = _require_post(session, post_id)
    audit(
        session,
        principal=office,
        action="post.contact",
        target=post.post_id,
        now=runtime.clock.now(),
        request=_audited(body),
    )
    set_contact(session, runtime.subjects, post, body)
    session.commit()
    runtime.relay.kick()
    return public("post", post)
