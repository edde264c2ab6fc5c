"""The inbox: one row per consumed event, written in the transaction of the event's effect.

A redelivered or duplicated event finds its row and changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import bindparam, delete
from sqlmodel import Field, Session, SQLModel, select

from services.common.timestamps import UtcDateTime


class InboxEntry(SQLModel, table=True):
    __tablename__ = "inbox"

    consumer: str = Field(primary_key=True, max_length=100)
    event_id: str = Field(primary_key=True, max_length=64)
    processed_at: datetime = Field(default_factory=lambda: datetime.now(UTC), sa_type=UtcDateTime)


def seen(session: Session, consumer: str, event_id: str) -> bool:
    return session.get(InboxEntry, (consumer, event_id)) is not None


def remember(session: Session, consumer: str, event_id: str) -> None:
    session.add(InboxEntry(consumer=consumer, event_id=event_id))


_INBOX = InboxEntry.__table__  # type: ignore[attr-defined]
# One consumer's rows processed before `before`, `limit` at a time (`OutboxRelay.delete_in_slices`).
PRUNE = delete(_INBOX).where(
    _INBOX.c.consumer == bindparam("consumer"),
    _INBOX.c.event_id.in_(
        select(_INBOX.c.event_id)
        .where(_INBOX.c.consumer == bindparam("consumer"), _INBOX.c.processed_at < bindparam("before"))
        .order_by(_INBOX.c.processed_at)
        .limit(bindparam("limit"))
    ),
)
