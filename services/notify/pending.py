"""What a decision writes beside the rows it changes — history entries and events — collected in
the session and inserted with one statement each when it commits: the day of a month's 临近提醒
writes one of each for every task not yet reported."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session

from services.common.outbox import stage_rows
from services.notify.models import Escalation, HistoryEntry

_KEY = "notify.pending"


@dataclass
class Pending:
    history: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    cases: dict[str, SimpleNamespace] = field(default_factory=dict)  # escalations opened, by id
    # Ids of the stored escalations of `looked_up` tasks, read in bulk before a rule runs over them.
    stored: set[str] = field(default_factory=set)
    looked_up: set[str] = field(default_factory=set)


# An escalation as the process handles it: a stored row, or one being opened in this transaction.
Case = Escalation | SimpleNamespace


def new_case(**values: Any) -> SimpleNamespace:
    """An escalation being opened: a plain row with the table's defaults (a model instance costs
    more to build than the whole decision), inserted by `commit`."""
    row = SimpleNamespace(
        unit="",
        unit_id="",
        message="",
        acknowledged_at=None,
        acknowledged_by=None,
        cause_key="",
        step=1,
        state="open",
        title="",
        doc_no="",
        opened_on=None,
        raised_on=None,
        next_on=None,
        closed_on=None,
        closed_reason="",
        ack_comment="",
        parties="",
        recipients=[],
    )
    row.__dict__.update(values)
    return row


def save(session: Session, row: Case) -> None:
    if isinstance(row, SimpleNamespace):
        pending(session).cases[row.escalation_id] = row
    else:
        session.add(row)


def pending(session: Session) -> Pending:
    found = session.info.get(_KEY)
    if found is None:
        found = session.info[_KEY] = Pending()
    return found  # type: ignore[no-any-return]


def commit(session: Session) -> None:
    """Write what was collected, then commit it with the rows the decision changed."""
    collected: Pending | None = session.info.pop(_KEY, None)
    if collected is not None:
        if collected.cases:
            session.execute(insert(Escalation), [vars(row) for row in collected.cases.values()])
        if collected.history:
            session.execute(insert(HistoryEntry), collected.history)
        stage_rows(session, collected.events)
    session.commit()
