"""Silences: the office mutes a task, a unit or a rule until a date, with a reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, col, select

from services.common.errors import ApiError
from services.notify.models import Silence
from services.notify.rules import RULE_NAMES

SCOPES = ("task", "unit", "rule")


@dataclass
class Muted:
    """The silences in force on one day: scope → target → the last day it holds."""

    until: dict[str, dict[str, date]] = field(default_factory=lambda: {s: {} for s in SCOPES})

    def of(self, scope: str, target: str) -> date | None:
        return self.until[scope].get(target)


def in_force(session: Session, today: date) -> Muted:
    muted = Muted()
    rows = session.exec(select(Silence).where(Silence.starts_on <= today, Silence.until >= today)).all()
    for row in rows:
        held = muted.until[row.scope]
        held[row.target] = max(row.until, held.get(row.target, row.until))
    return muted


def validate(scope: str, target: str, starts_on: date, until: date) -> None:
    if scope == "rule" and target not in RULE_NAMES:
        raise ApiError(
            422,
            "unknown_rule",
            f"未知的督办规则 {target}，可选：{'、'.join(RULE_NAMES)}",
            f"unknown rule {target}; one of {', '.join(RULE_NAMES)}",
        )
    if until < starts_on:
        raise ApiError(
            422,
            "silence_ends_before_start",
            f"静默结束日期 {until} 早于开始日期 {starts_on}",
            f"the silence ends ({until}) before it starts ({starts_on})",
        )


def list_silences(session: Session, *, active_on: date | None, limit: int, offset: int) -> list[Silence]:
    stmt = select(Silence)
    if active_on is not None:
        stmt = stmt.where(Silence.starts_on <= active_on, Silence.until >= active_on)
    return list(session.exec(stmt.order_by(col(Silence.id)).offset(offset).limit(limit)).all())


def require_silence(session: Session, silence_id: int) -> Silence:
    row = session.get(Silence, silence_id)
    if row is None:
        raise ApiError(404, "silence_not_found", f"未找到静默设置 {silence_id}", f"silence {silence_id} not found")
    return row
