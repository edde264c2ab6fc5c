"""What the delivery routes take and give: subscriptions without their secrets, deliveries, tries."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from services.common.params import Line, Link
from services.notify.quiet_hours import parse_quiet_hours

Channel = Literal["webhook", "dingtalk", "wecom", "email"]
OwnerKind = Literal["unit", "post", "office"]
DEFAULT_QUIET_HOURS = "20:00-08:00"
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$"
)
_LINK = TypeAdapter(Link)


def _quiet(value: str) -> str:
    parse_quiet_hours(value)
    return value


Id = Annotated[Line, Field(min_length=1, max_length=64)]
QuietHours = Annotated[str, Field(max_length=11), AfterValidator(_quiet)]


def check_target(channel: str, target: str) -> None:
    """A robot or webhook needs an http(s) URL with a host; e-mail an address. ValueError otherwise."""
    if channel == "email":
        if len(target) > 200 or not _EMAIL.match(target):
            raise ValueError("an e-mail subscription's target is an address such as duban@example.org")
        return
    _LINK.validate_python(target)


class Filters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    units: list[Id] = Field(default_factory=list, max_length=500, description="Unit ids (directory).")
    leaders: list[Id] = Field(default_factory=list, max_length=100, description="Leaders' post ids.")
    levels: list[Literal["advance", "reminder", "red", "head"]] = Field(default_factory=list, max_length=4)
    notices: list[Annotated[Line, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=200, description="Notices by 文号."
    )
    rules: list[Id] = Field(default_factory=list, max_length=20, description="Ladder rules, e.g. report_missing.")


class SubscriptionFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[Line, Field(min_length=1, max_length=200)]
    channel: Channel
    target: Annotated[str, Field(min_length=1, max_length=500)]
    secret: Annotated[Line, Field(max_length=200)] = Field(
        default="", description="The robot's 加签 secret or the webhook's signing key; never shown again."
    )
    filters: Filters = Field(default_factory=Filters)
    quiet_hours: QuietHours = Field(
        default=DEFAULT_QUIET_HOURS, description="HH:MM-HH:MM China time; only 督办 goes out then. '' for none."
    )
    digest_minutes: int = Field(default=0, ge=0, le=1440, strict=True, description="Gather items this long.")

    @model_validator(mode="after")
    def _target_fits_channel(self) -> SubscriptionFields:
        check_target(self.channel, self.target)
        return self


class SubscriptionIn(SubscriptionFields):
    owner_kind: OwnerKind | None = Field(default=None, description="Whose it is; the caller's own when omitted.")
    owner_id: Id | None = Field(default=None, description="The unit's id or the post's id; 'office' for the office.")


class SubscriptionPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[Line, Field(min_length=1, max_length=200)] | None = None
    channel: Channel | None = None
    target: Annotated[str, Field(min_length=1, max_length=500)] | None = None
    secret: Annotated[Line, Field(max_length=200)] | None = None
    filters: Filters | None = None
    quiet_hours: QuietHours | None = None
    digest_minutes: int | None = Field(default=None, ge=0, le=1440, strict=True)


class SubscriptionPublic(BaseModel):
    subscription_id: str
    name: str
    channel: str
    target: str
    has_secret: bool
    owner_kind: str
    owner_id: str
    filters: dict[str, Any]
    quiet_hours: str
    digest_minutes: int
    state: str
    broken_reason: str
    source: str
    created_at: datetime
    updated_at: datetime


class DeliveryPublic(BaseModel):
    delivery_id: str
    step_id: str
    subscription_id: str
    task_id: str
    channel: str
    recipient: str
    copy_only: bool
    level: str
    rule: str
    title: str
    state: str
    attempts: int
    next_at: datetime
    last_error: str
    created_at: datetime
    sent_at: datetime | None


class AttemptPublic(BaseModel):
    """One try of one delivery, as the task's history shows it."""

    kind: Literal["delivery"] = "delivery"
    at: datetime
    delivery_id: str
    step_id: str
    channel: str
    recipient: str
    subscription: str
    outcome: str
    status: int
    answer: str
    items: int
