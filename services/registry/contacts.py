"""Contact fields of units and posts (a group robot, an address), and their event to notify."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlmodel import Session

from proto.directory import ContactChanged
from proto.subjects import Subjects
from services.common.outbox import stage
from services.common.params import Line, Link
from services.registry.directory_models import Post, Unit

_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$"
)


class ContactIn(BaseModel):
    """A unit's or post's contact; a field left out stays as it is, "" clears it."""

    model_config = ConfigDict(extra="forbid")

    robot_channel: Literal["dingtalk", "wecom"] | None = None
    robot_url: Link | Literal[""] | None = None
    robot_secret: Annotated[Line, Field(max_length=200)] | None = None
    email: Annotated[str, Field(max_length=200)] | None = None

    @field_validator("email")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value and not _EMAIL.match(value):
            raise ValueError("an e-mail address such as duban@example.org")
        return value


class ContactPublic(BaseModel):
    kind: str
    owner_id: str
    robot_channel: str
    robot_url: str
    has_robot_secret: bool
    email: str


FIELDS = ("robot_channel", "robot_url", "robot_secret", "email")


def public(kind: str, row: Unit | Post) -> ContactPublic:
    owner_id = row.unit_id if isinstance(row, Unit) else row.post_id
    return ContactPublic(
        kind=kind,
        owner_id=owner_id,
        robot_channel=row.robot_channel,
        robot_url=row.robot_url,
        has_robot_secret=bool(row.robot_secret),
        email=row.email,
    )


def set_contact(session: Session, subjects: Subjects, row: Unit | Post, contact: ContactIn) -> bool:
    """Apply `contact` to the row and stage its event when anything changed; True if it did."""
    changes = {k: v for k, v in contact.model_dump(exclude_unset=True).items() if v is not None}
    if row.robot_url and not row.robot_channel and "robot_channel" not in changes:
        changes["robot_channel"] = "dingtalk"
    if changes.get("robot_url") and not (changes.get("robot_channel") or row.robot_channel):
        changes["robot_channel"] = "dingtalk"
    if all(getattr(row, k) == v for k, v in changes.items()):
        return False
    for key, value in changes.items():
        setattr(row, key, value)
    session.add(row)
    stage_contact(session, subjects, row)
    return True


def stage_contact(session: Session, subjects: Subjects, row: Unit | Post, *, removed: bool = False) -> None:
    kind, owner_id, name = (
        ("unit", row.unit_id, row.name) if isinstance(row, Unit) else ("post", row.post_id, row.title)
    )
    event = ContactChanged(
        source="registry",
        kind=kind,
        owner_id=owner_id,
        name=name,
        robot_channel=row.robot_channel,
        robot_url=row.robot_url,
        robot_secret=row.robot_secret,
        email=row.email,
        removed=removed,
    )
    stage(session, subjects.directory_contact_changed(kind, owner_id), event)
