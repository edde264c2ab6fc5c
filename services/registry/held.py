"""Versions held for the office: the rule that holds one, and keeping it until someone decides.

A new version that would remove a large share of a notice's tasks (an upload of a one-task text
under a 39-task notice's 文号, by mistake or not) is not applied when it arrives. It waits as
待确认 with its diff, the version in force stays, and nothing reaches progress until the office
confirms it (`version_review.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, func, select

from proto.notice import NoticeParsed
from services.registry.models import HeldVersion
from services.registry.settings import RegistrySettings

PENDING = "pending"


@dataclass(frozen=True)
class DropRule:
    """Hold a version removing more than `max_share` of the tasks in force and at least `min_removed`.

    The minimum lets an ordinary edit of a small notice (one task of three struck out) apply at
    once: one wrongly removed task is cheap to restore, 38 of 39 are not.
    """

    max_share: float = 0.2
    min_removed: int = 2

    @classmethod
    def of(cls, settings: RegistrySettings) -> DropRule:
        return cls(max_share=settings.max_drop_share, min_removed=settings.hold_min_removed)

    def holds(self, *, removed: int, in_force: int) -> bool:
        return removed >= self.min_removed and removed > self.max_share * in_force


def next_version(session: Session, doc_no: str, current: int) -> int:
    """The next number of the notice's one version sequence, held versions included."""
    held = session.exec(select(func.max(HeldVersion.version)).where(HeldVersion.doc_no == doc_no)).one()
    return max(current, held or 0) + 1


def pending_of(session: Session, doc_no: str) -> list[HeldVersion]:
    stmt = select(HeldVersion).where(HeldVersion.doc_no == doc_no, HeldVersion.status == PENDING)
    return list(session.exec(stmt.order_by(HeldVersion.version)).all())  # type: ignore[arg-type]


def held_of(session: Session, doc_no: str) -> list[HeldVersion]:
    stmt = select(HeldVersion).where(HeldVersion.doc_no == doc_no).order_by(HeldVersion.version)  # type: ignore[arg-type]
    return list(session.exec(stmt).all())


def is_pending(session: Session, doc_no: str, content_hash: str) -> bool:
    return any(h.content_hash == content_hash for h in pending_of(session, doc_no))


def supersede_pending(session: Session, doc_no: str, *, by: int, now: datetime) -> None:
    """A newer version is the latest word under this 文号; a pending one's diff is against a
    version about to leave force, so it can no longer be confirmed. Uploading its content again
    holds it anew, diffed against what is then in force."""
    for held in pending_of(session, doc_no):
        decide(session, held, status="superseded", actor=f"{doc_no} v{by}", now=now)


def decide(session: Session, held: HeldVersion, *, status: str, actor: str, now: datetime) -> None:
    held.status, held.decided_by, held.decided_at = status, actor[:100], now
    held.event = None
    session.add(held)


def hold_version(
    session: Session,
    *,
    event: NoticeParsed,
    doc_no: str,
    version: int,
    based_on: int,
    content_hash: str,
    task_count: int,
    diff: dict[str, Any],
    now: datetime,
) -> HeldVersion:
    held = HeldVersion(
        doc_no=doc_no,
        version=version,
        based_on=based_on,
        notice_id=event.notice_id,
        content_hash=content_hash,
        task_count=task_count,
        diff=diff,
        event=event.model_dump(mode="json"),
        received_at=now,
    )
    session.add(held)
    return held
