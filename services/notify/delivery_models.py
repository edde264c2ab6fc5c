"""Delivery's tables: who reads what where (subscriptions), what is to be sent (deliveries), what
each send got back (attempts), the console's feed, and notify's copy of the directory's contacts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from services.common.timestamps import UtcDateTime

CHANNELS = ("webhook", "dingtalk", "wecom", "email")
OWNER_KINDS = ("unit", "post", "office")
# A delivery is pending until sent; dead after the last try (the office may replay it).
PENDING, SENT, DEAD = "pending", "sent", "dead"
ACTIVE, BROKEN = "active", "broken"


def _now() -> datetime:
    return datetime.now(UTC)


class Subscription(SQLModel, table=True):
    """One place someone reads: a robot, an address, a webhook; `filters` narrow what reaches it."""

    __tablename__ = "notify_subscription"

    subscription_id: str = Field(primary_key=True, max_length=32)
    name: str = Field(max_length=200)
    channel: str = Field(index=True, max_length=20)
    target: str = Field(max_length=500)
    secret: str = Field(default="", max_length=200)  # robot or webhook signing secret; never returned
    owner_kind: str = Field(index=True, max_length=20)  # unit, post or office
    owner_id: str = Field(index=True, max_length=64)
    filters: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    quiet_hours: str = Field(default="", max_length=11)  # "22:00-08:00" China time, "" for none
    digest_minutes: int = Field(default=0)  # gather items this long before sending them together
    state: str = Field(default=ACTIVE, index=True, max_length=20)
    broken_reason: str = Field(default="", max_length=500)
    source: str = Field(default="custom", max_length=20)  # custom, or default (from the directory)
    created_at: datetime = Field(default_factory=_now, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=_now, sa_type=UtcDateTime)


class Delivery(SQLModel, table=True):
    """One step for one subscription, written in the transaction that records the step."""

    __tablename__ = "notify_delivery"
    __table_args__ = (
        UniqueConstraint("step_id", "subscription_id", name="uq_notify_delivery_step_subscription"),
        Index("ix_notify_delivery_due", "state", "next_at"),
    )

    delivery_id: str = Field(primary_key=True, max_length=32)
    step_id: str = Field(max_length=100)
    subscription_id: str = Field(index=True, max_length=32)
    escalation_id: str = Field(default="", max_length=64)
    task_id: str = Field(default="", index=True, max_length=64)
    channel: str = Field(max_length=20)
    recipient: str = Field(index=True, max_length=64)  # the subscription's owner id
    copy_only: bool = False  # 抄送
    level: str = Field(max_length=20)
    rule: str = Field(default="", max_length=40)
    doc_no: str = Field(default="", max_length=200)
    title: str = Field(max_length=300)
    message: str
    link: str = Field(default="", max_length=500)
    state: str = Field(default=PENDING, max_length=20)
    attempts: int = 0  # failed tries counted towards the dead letters (rate limits are not)
    next_at: datetime = Field(sa_type=UtcDateTime)
    last_error: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=_now, index=True, sa_type=UtcDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class DeliveryAttempt(SQLModel, table=True):
    """One try of one delivery and what the receiver answered."""

    __tablename__ = "notify_delivery_attempt"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: str = Field(index=True, max_length=32)
    task_id: str = Field(default="", index=True, max_length=64)
    at: datetime = Field(sa_type=UtcDateTime)
    outcome: str = Field(max_length=20)  # sent, retry, rate_limited, broken, dead
    status: int = 0  # HTTP status or SMTP code; 0 when nothing answered
    answer: str = Field(default="", max_length=500)
    batch: int = 1  # items in the message this try sent (a digest holds many)


class FeedItem(SQLModel, table=True):
    """A step as the console's live feed shows it; `seq` is the SSE event id."""

    __tablename__ = "notify_feed"

    seq: int | None = Field(default=None, primary_key=True)
    step_id: str = Field(index=True, max_length=100)
    audience: str = Field(max_length=2000)  # ",u:<unit>,p:<post>,office," — who may see it
    level: str = Field(max_length=20)
    title: str = Field(max_length=300)
    message: str
    link: str = Field(default="", max_length=500)
    task_id: str = Field(default="", max_length=64)
    raised_at: datetime = Field(sa_type=UtcDateTime)


class Contact(SQLModel, table=True):
    """The directory's contact fields of a unit or a post, kept from `directory.contact.changed`."""

    __tablename__ = "notify_contact"

    owner_kind: str = Field(primary_key=True, max_length=20)  # unit or post
    owner_id: str = Field(primary_key=True, max_length=64)
    name: str = Field(default="", max_length=200)
    robot_channel: str = Field(default="", max_length=20)  # dingtalk or wecom
    robot_url: str = Field(default="", max_length=500)
    robot_secret: str = Field(default="", max_length=200)
    email: str = Field(default="", max_length=200)
    removed: bool = False
    updated_at: datetime = Field(default_factory=_now, sa_type=UtcDateTime)


DELIVERY_TABLES: list[type[SQLModel]] = [Subscription, Delivery, DeliveryAttempt, FeedItem, Contact]
