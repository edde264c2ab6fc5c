"""Subscriptions: who may change which, checks against notify's copy of the directory, and the
default subscriptions a unit, a leader's post and the office get from their contact fields."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime

from pydantic import ValidationError
from sqlmodel import Session, col, select

from services.common.access import access_denied
from services.common.errors import ApiError
from services.common.identity import Principal
from services.notify.delivery_models import ACTIVE, Contact, Subscription
from services.notify.delivery_schemas import (
    DEFAULT_QUIET_HOURS,
    SubscriptionFields,
    SubscriptionIn,
    SubscriptionPatch,
    SubscriptionPublic,
)

OFFICE_ID = "office"


def public(sub: Subscription) -> SubscriptionPublic:
    data = sub.model_dump(exclude={"secret"})
    return SubscriptionPublic(**data, has_secret=bool(sub.secret))


def own_owner(principal: Principal) -> tuple[str, str]:
    """The owner a caller's own subscriptions have: their unit, their post, or the office."""
    if principal.role == "unit" and principal.unit_id:
        return "unit", principal.unit_id
    if principal.role == "supervisor" and principal.post_id:
        return "post", principal.post_id
    if principal.role == "office":
        return "office", OFFICE_ID
    raise access_denied("此令牌未绑定单位或职务，不能管理订阅", "this token is bound to no unit or post")


def may_change(principal: Principal, sub: Subscription) -> bool:
    return principal.role == "office" or own_owner(principal) == (sub.owner_kind, sub.owner_id)


def not_found(subscription_id: str) -> ApiError:
    return ApiError(
        404, "subscription_not_found", f"未找到订阅 {subscription_id}", f"subscription {subscription_id} not found"
    )


def require(session: Session, subscription_id: str, principal: Principal) -> Subscription:
    sub = session.get(Subscription, subscription_id)
    if sub is None:
        raise not_found(subscription_id)
    if not may_change(principal, sub):
        raise access_denied(
            "只能查看或修改本单位（本人）的订阅", "only your own subscriptions, unless you are the office"
        )
    return sub


def _known(session: Session, kind: str, ids: Sequence[str]) -> set[str]:
    if not ids:
        return set()
    stmt = select(Contact.owner_id).where(
        Contact.owner_kind == kind,
        col(Contact.owner_id).in_(ids),
        Contact.removed == False,  # noqa: E712
    )
    return set(session.exec(stmt).all())


def check_directory(
    session: Session, *, owner: tuple[str, str], units: Sequence[str], leaders: Sequence[str], own: bool = False
) -> None:
    """422 naming every unit or post the directory (as notify keeps it) does not know.

    With `own`, the owner is the caller's own unit or post, which its token vouches for: a unit a
    notice named and nobody has put in the directory yet may still subscribe for itself.
    """
    kind, owner_id = owner
    problems = []
    wanted_units = [*units, *([owner_id] if kind == "unit" and not own else [])]
    wanted_posts = [*leaders, *([owner_id] if kind == "post" and not own else [])]
    for missing in sorted(set(wanted_units) - _known(session, "unit", wanted_units)):
        problems.append({"where": "unit", "problem": f"unknown unit {missing}"})
    for missing in sorted(set(wanted_posts) - _known(session, "post", wanted_posts)):
        problems.append({"where": "leader", "problem": f"unknown post {missing}"})
    if kind == "office" and owner_id != OFFICE_ID:
        problems.append({"where": "owner_id", "problem": "the office's subscriptions have owner_id 'office'"})
    if problems:
        raise ApiError(422, "unknown_in_directory", "目录中没有所列单位或职务", "unknown unit or post", problems)


def resolve_owner(principal: Principal, body: SubscriptionIn) -> tuple[str, str]:
    mine = own_owner(principal)
    if body.owner_kind is None and body.owner_id is None:
        return mine
    asked = (body.owner_kind or mine[0], body.owner_id or (OFFICE_ID if body.owner_kind == "office" else ""))
    if principal.role != "office" and asked != mine:
        raise access_denied("只能为本单位（本人）订阅", "you may subscribe only for your own unit or post")
    if not asked[1]:
        raise ApiError(422, "owner_required", "请指定订阅所属单位或职务", "owner_id is required with owner_kind")
    return asked


def create(session: Session, principal: Principal, body: SubscriptionIn, now: datetime) -> Subscription:
    owner = resolve_owner(principal, body)
    own = owner == own_owner(principal)
    check_directory(session, owner=owner, units=body.filters.units, leaders=body.filters.leaders, own=own)
    sub = Subscription(
        subscription_id=secrets.token_hex(8),
        owner_kind=owner[0],
        owner_id=owner[1],
        created_at=now,
        updated_at=now,
        **body.model_dump(exclude={"owner_kind", "owner_id"}),
    )
    session.add(sub)
    return sub


def update(
    session: Session, sub: Subscription, patch: SubscriptionPatch, now: datetime, *, own: bool = False
) -> Subscription:
    """Apply `patch`, checked as a whole (a new channel with the old target is refused); repairs a broken one."""
    changes = patch.model_dump(exclude_unset=True, exclude_none=True)
    try:
        merged = SubscriptionFields.model_validate(
            {**sub.model_dump(include=set(SubscriptionFields.model_fields)), **changes}
        )
    except ValidationError as error:
        problems = [{"where": ".".join(map(str, e["loc"])) or "body", "problem": e["msg"]} for e in error.errors()]
        raise ApiError(
            422, "invalid_request", "订阅修改后无效", "the subscription would not be valid", problems
        ) from None
    owner = (sub.owner_kind, sub.owner_id)
    check_directory(session, owner=owner, units=merged.filters.units, leaders=merged.filters.leaders, own=own)
    for key, value in merged.model_dump().items():
        setattr(sub, key, value)
    if {"target", "secret", "channel"} & changes.keys():
        sub.state, sub.broken_reason = ACTIVE, ""  # the office fixed the robot: what waited goes out
    sub.updated_at = now
    session.add(sub)
    return sub


def visible(session: Session, principal: Principal, *, limit: int, offset: int) -> list[Subscription]:
    stmt = select(Subscription)
    if principal.role != "office":
        kind, owner_id = own_owner(principal)
        stmt = stmt.where(Subscription.owner_kind == kind, Subscription.owner_id == owner_id)
    stmt = stmt.order_by(col(Subscription.created_at), col(Subscription.subscription_id)).offset(offset).limit(limit)
    return list(session.exec(stmt).all())


def apply_defaults(session: Session, contact: Contact, now: datetime) -> None:
    """The default subscriptions of a unit or post follow its contact fields: made, changed, dropped."""
    wanted: dict[str, tuple[str, str]] = {}
    if contact.robot_url and contact.robot_channel in ("dingtalk", "wecom") and not contact.removed:
        wanted[contact.robot_channel] = (contact.robot_url, contact.robot_secret)
    if contact.email and not contact.removed:
        wanted["email"] = (contact.email, "")
    stmt = select(Subscription).where(
        Subscription.owner_kind == contact.owner_kind,
        Subscription.owner_id == contact.owner_id,
        Subscription.source == "default",
    )
    have = {s.channel: s for s in session.exec(stmt).all()}
    for channel, sub in have.items():
        if channel not in wanted:
            session.delete(sub)
    for channel, (target, secret) in wanted.items():
        sub = have.get(channel) or Subscription(
            subscription_id=secrets.token_hex(8),
            name=f"{contact.name or contact.owner_id}（{channel}）",
            channel=channel,
            target=target,
            owner_kind=contact.owner_kind,
            owner_id=contact.owner_id,
            quiet_hours=DEFAULT_QUIET_HOURS,
            source="default",
            created_at=now,
        )
        if (sub.target, sub.secret) != (target, secret):
            sub.state, sub.broken_reason = ACTIVE, ""
        sub.target, sub.secret, sub.updated_at = target, secret, now
        session.add(sub)
