"""Delivery's routes: subscriptions, the deliveries and their dead letters, the live feed. Thin."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Path, Query, Request, Response
from sqlmodel import col, select
from sse_starlette import EventSourceResponse

from services.common.access import AnyRoleDep, OfficeDep
from services.common.audit import audit
from services.common.clock import CHINA
from services.common.deps import RuntimeDep, SessionDep
from services.common.errors import ApiError
from services.common.params import MAX_ROW_ID, Day, Limit, Offset
from services.notify import feed, subscriptions
from services.notify.delivery import worker_of
from services.notify.delivery_models import DEAD, Delivery
from services.notify.delivery_schemas import DeliveryPublic, SubscriptionIn, SubscriptionPatch, SubscriptionPublic
from services.notify.worker import replay

router = APIRouter(tags=["delivery"])
SubscriptionId = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[0-9a-f]+$")]
DeliveryId = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[0-9a-f]+$")]
FEED_POLL_S = 0.5


def _safe(body: SubscriptionIn | SubscriptionPatch) -> dict[str, object]:
    """What the audit trail keeps of a request: everything but the secret."""
    data = body.model_dump(mode="json", exclude_unset=True, exclude={"secret"})
    if getattr(body, "secret", None):
        data["secret"] = "***"
    return data


@router.post("/subscriptions", response_model=SubscriptionPublic, status_code=201)
def create_subscription(
    body: SubscriptionIn, runtime: RuntimeDep, session: SessionDep, principal: AnyRoleDep
) -> SubscriptionPublic:
    """Subscribe a channel: a unit or leader for themselves, the office for anyone."""
    now = runtime.clock.now()
    sub = subscriptions.create(session, principal, body, now)
    audit(
        session,
        principal=principal,
        action="subscription.create",
        target=sub.subscription_id,
        now=now,
        request=_safe(body),
    )
    session.commit()
    return subscriptions.public(sub)


@router.get("/subscriptions", response_model=list[SubscriptionPublic])
def list_subscriptions(
    session: SessionDep, principal: AnyRoleDep, limit: Limit = 100, offset: Offset = 0
) -> list[SubscriptionPublic]:
    """Your own subscriptions; the office sees all. Secrets are never shown."""
    return [subscriptions.public(s) for s in subscriptions.visible(session, principal, limit=limit, offset=offset)]


@router.get("/subscriptions/{subscription_id}", response_model=SubscriptionPublic)
def get_subscription(subscription_id: SubscriptionId, session: SessionDep, principal: AnyRoleDep) -> SubscriptionPublic:
    return subscriptions.public(subscriptions.require(session, subscription_id, principal))


@router.patch("/subscriptions/{subscription_id}", response_model=SubscriptionPublic)
def patch_subscription(
    subscription_id: SubscriptionId,
    body: SubscriptionPatch,
    runtime: RuntimeDep,
    session: SessionDep,
    principal: AnyRoleDep,
) -> SubscriptionPublic:
    """Change your own subscription (the office: any); a new target or secret repairs a broken robot."""
    sub = subscriptions.require(session, subscription_id, principal)
    now = runtime.clock.now()
    before = subscriptions.public(sub).model_dump(mode="json")
    own = subscriptions.own_owner(principal) == (sub.owner_kind, sub.owner_id)
    subscriptions.update(session, sub, body, now, own=own)
    audit(
        session,
        principal=principal,
        action="subscription.update",
        target=subscription_id,
        now=now,
        before=before,
        request=_safe(body),
    )
    session.commit()
    return subscriptions.public(sub)


@router.delete("/subscriptions/{subscription_id}", status_code=204)
def delete_subscription(
    subscription_id: SubscriptionId, runtime: RuntimeDep, session: SessionDep, principal: AnyRoleDep
) -> Response:
    """Drop your own subscription (the office: any); what it had not yet sent stays, unsent, for the record."""
    sub = subscriptions.require(session, subscription_id, principal)
    now = runtime.clock.now()
    audit(
        session,
        principal=principal,
        action="subscription.delete",
        target=subscription_id,
        now=now,
        before=subscriptions.public(sub).model_dump(mode="json"),
    )
    session.delete(sub)
    session.commit()
    return Response(status_code=204)


@router.get("/deliveries", response_model=list[DeliveryPublic])
def list_deliveries(
    session: SessionDep,
    principal: AnyRoleDep,
    recipient: str | None = Query(None, max_length=64, description="A unit's or post's id, or 'office'."),
    channel: Literal["webhook", "dingtalk", "wecom", "email"] | None = None,
    state: Literal["pending", "sent", "dead"] | None = None,
    day: Day | None = Query(None, alias="date", description="China date the step was raised."),
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[DeliveryPublic]:
    """Deliveries, newest first; a unit or leader sees only their own."""
    stmt = select(Delivery)
    if principal.role != "office":
        stmt = stmt.where(Delivery.recipient == subscriptions.own_owner(principal)[1])
    if recipient:
        stmt = stmt.where(Delivery.recipient == recipient)
    if channel:
        stmt = stmt.where(Delivery.channel == channel)
    if state:
        stmt = stmt.where(Delivery.state == state)
    if day is not None:
        start = datetime.combine(day, time(), tzinfo=CHINA).astimezone(UTC)
        stmt = stmt.where(col(Delivery.created_at) >= start, col(Delivery.created_at) < start + timedelta(days=1))
    stmt = stmt.order_by(col(Delivery.created_at).desc(), col(Delivery.delivery_id)).offset(offset).limit(limit)
    return [DeliveryPublic.model_validate(r, from_attributes=True) for r in session.exec(stmt).all()]


@router.get("/deliveries/dead", response_model=list[DeliveryPublic])
def list_dead_letters(
    session: SessionDep, _office: OfficeDep, limit: Limit = 100, offset: Offset = 0
) -> list[DeliveryPublic]:
    """Deliveries given up on after the last try, with the receiver's last answer (office only)."""
    stmt = select(Delivery).where(Delivery.state == DEAD).order_by(col(Delivery.created_at)).offset(offset).limit(limit)
    return [DeliveryPublic.model_validate(r, from_attributes=True) for r in session.exec(stmt).all()]


@router.post("/deliveries/{delivery_id}/replay", response_model=DeliveryPublic)
def replay_dead_letter(
    delivery_id: DeliveryId, runtime: RuntimeDep, session: SessionDep, office: OfficeDep
) -> DeliveryPublic:
    """Send a dead letter again, its tries counted afresh (office only)."""
    now = runtime.clock.now()
    row = session.get(Delivery, delivery_id)
    if row is None:
        raise ApiError(404, "delivery_not_found", f"未找到投递 {delivery_id}", f"delivery {delivery_id} not found")
    if replay(session, delivery_id, now) is None:
        raise ApiError(409, "not_dead", "该投递不在死信中，无需重发", "the delivery is not a dead letter")
    audit(session, principal=office, action="delivery.replay", target=delivery_id, now=now)
    session.commit()
    worker = worker_of(runtime)
    if worker is not None:
        worker.nudge()
    return DeliveryPublic.model_validate(row, from_attributes=True)


@router.get("/feed", response_class=EventSourceResponse)
async def live_feed(
    request: Request,
    runtime: RuntimeDep,
    principal: AnyRoleDep,
    last_event_id: str | None = Header(None, alias="Last-Event-ID", max_length=30),
    after: int | None = Query(None, ge=0, le=MAX_ROW_ID, description="Resume after this event id."),
    follow: bool = Query(True, description="false: send what there is, then close (a catch-up without waiting)."),
) -> EventSourceResponse:
    """Server-sent events of the steps addressed to the caller (the office: all), resumable."""
    start = feed.last_event_id(last_event_id, after)
    stream = feed.events(
        engine=runtime.engine,
        principal=principal,
        after=start,
        run_db=runtime.run_db,
        poll_s=FEED_POLL_S,
        disconnected=request.is_disconnected,
        follow=follow,
    )
    return EventSourceResponse(stream, ping=15)
