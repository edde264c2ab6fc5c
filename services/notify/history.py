"""留痕: writing and reading the chase's history."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlmodel import Session, col, select

from services.notify.context import Context
from services.notify.models import Escalation, HistoryEntry


def pad(ids: Iterable[str]) -> str:
    """Ids as a padded, space-separated string that `LIKE '% id %'` searches."""
    unique = sorted({i for i in ids if i})
    return f" {' '.join(unique)} " if unique else ""


def parties_of(row: Escalation) -> list[str]:
    return [str(r.get("id")) for r in row.recipients if r.get("kind") in ("unit", "post")]


def record(
    session: Session,
    ctx: Context,
    row: Escalation,
    kind: str,
    *,
    note: str = "",
    actor: str = "notify",
    rule: str | None = None,
) -> None:
    session.add(
        HistoryEntry(
            task_id=row.task_id,
            escalation_id=row.escalation_id,
            on=ctx.today,
            at=ctx.now,
            kind=kind,
            level=row.level,
            rule=rule or row.rule,
            step=row.step,
            actor=actor,
            note=note,
            parties=pad(parties_of(row)),
        )
    )


def task_history(session: Session, task_id: str) -> list[HistoryEntry]:
    stmt = select(HistoryEntry).where(HistoryEntry.task_id == task_id).order_by(col(HistoryEntry.id))
    return list(session.exec(stmt).all())


def search_history(
    session: Session,
    *,
    task: str | None,
    party: str | None,
    since: date | None,
    until: date | None,
    limit: int,
    offset: int,
) -> list[HistoryEntry]:
    """History by task, by unit or leader's post (`party`) and by China date, oldest first."""
    stmt = select(HistoryEntry)
    if task:
        stmt = stmt.where(HistoryEntry.task_id == task)
    if party:
        stmt = stmt.where(col(HistoryEntry.parties).contains(f" {party} "))
    if since:
        stmt = stmt.where(HistoryEntry.on >= since)
    if until:
        stmt = stmt.where(HistoryEntry.on <= until)
    return list(session.exec(stmt.order_by(col(HistoryEntry.id)).offset(offset).limit(limit)).all())
