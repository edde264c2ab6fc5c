"""The progress service's copy of each task and of the units responsible, from `task.upserted`."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, select

from proto.subjects import Subjects
from proto.task import TaskUpserted, UnitRef
from services.common.db import insert_missing
from services.common.inbox import remember, seen
from services.progress.models import Extension, ProgressTask, ProgressUnit, Receipt
from services.progress.status import Rules, commit, refresh

TASK_CONSUMER = "progress-task-upserted"


def _learn_units(session: Session, refs: list[UnitRef], ids: list[str]) -> None:
    named = {r.unit_id: r for r in refs}
    # A group's members arrive as ids only; the id stands as the name until a task names the unit.
    rows = {uid: ProgressUnit(unit_id=uid, name=uid) for uid in ids}
    rows.update({uid: ProgressUnit(unit_id=uid, name=r.name, canonical=r.canonical) for uid, r in named.items()})
    # Concurrent events often name the same new unit: insert-if-missing, then correct the names.
    insert_missing(session, list(rows.values()))
    for uid, ref in named.items():
        unit = session.get(ProgressUnit, uid)
        if unit is not None and (unit.name, unit.canonical) != (ref.name, ref.canonical):
            unit.name, unit.canonical = ref.name, ref.canonical
            session.add(unit)


def _unit_ids(refs: list[UnitRef], expanded: list[str]) -> list[str]:
    # Until the registry sends expanded ids, the refs' own ids are the responsible units.
    return list(dict.fromkeys(expanded or [r.unit_id for r in refs]))


def _sync_receipts(session: Session, task: ProgressTask, today: date) -> None:
    """Each host unit signs for its assignment once; the oldest unsigned one feeds the flag."""
    existing = {r.unit_id: r for r in session.exec(select(Receipt).where(Receipt.task_id == task.task_id)).all()}
    for uid in task.host_unit_ids:
        if uid not in existing:
            existing[uid] = Receipt(task_id=task.task_id, unit_id=uid, assigned_on=today)
            session.add(existing[uid])
    pending = [existing[u].assigned_on for u in task.host_unit_ids if existing[u].acknowledged_at is None]
    task.unacknowledged_since = min(pending) if pending else None


def apply_task_upserted(
    *, session: Session, subjects: Subjects, event: TaskUpserted, today: date, rules: Rules
) -> None:
    if seen(session, TASK_CONSUMER, event.event_id):
        return
    task = session.get(ProgressTask, event.task_id)
    if task is None or event.version >= task.task_version:
        # A new task has no flag yet, so its first judgement is a change from None.
        task = task or ProgressTask(
            task_id=event.task_id, key=event.key, doc_no=event.doc_no, text=event.text, flag="", assigned_on=today
        )
        host_ids = _unit_ids(event.host_units, event.host_unit_ids)
        co_ids = [u for u in _unit_ids(event.co_units, event.co_unit_ids) if u not in host_ids]
        _learn_units(session, [*event.host_units, *event.co_units], [*host_ids, *co_ids])
        task.key, task.doc_no, task.notice_id, task.text = event.key, event.doc_no, event.notice_id, event.text
        task.number, task.chapter = event.number, event.chapter
        task.leaders = list(event.leaders)
        task.host_units = [u.name for u in event.host_units]
        task.co_units = [u.name for u in event.co_units]
        task.host_unit_ids, task.co_unit_ids = host_ids, co_ids
        task.quantities = [q.model_dump(mode="json") for q in event.quantities]
        task.milestones = [m.model_dump(mode="json") for m in event.milestones]
        task.word_targets = [q.model_dump(mode="json") for q in event.word_targets]
        task.deadline_phrase = event.deadline_phrase
        task.issued_date = event.issued_date
        task.original_due_date = event.due_date
        approved = session.exec(
            select(Extension)
            .where(Extension.task_id == event.task_id, Extension.state == "approved")
            .order_by(col(Extension.decided_at).desc())
        ).first()
        # An approved extension outlives re-ingests: the office's decision stands over the notice's date.
        task.due_date = approved.requested_due_date if approved else event.due_date
        task.task_version = event.version
        task.removed = event.removed
        task.supervision, task.supervision_start = event.supervision, event.supervision_start
        _sync_receipts(session, task, today)
        refresh(session=session, subjects=subjects, task=task, today=today, rules=rules, cause=event.event_id)
    remember(session, TASK_CONSUMER, event.event_id)
    commit(session)
