"""From a task row to its resolved views: assignment rows, `task.upserted` events, API answers."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import insert
from sqlmodel import Session, col, delete, select

from proto.notice import Milestone, Quantity
from proto.subjects import Subjects
from proto.task import TaskUpserted, UnitRef
from services.common.outbox import stage
from services.registry.directory import Groups, resolve_names
from services.registry.directory_models import Unit
from services.registry.models import Assignment, RegistryNotice, RegistryTask, TaskLeader
from services.registry.posts import LeaderBook
from services.registry.schemas import TaskPublic

ROLES = (("host", "host_units"), ("co", "co_units"))


# Ids per statement when deleting by task: well under every database's parameter limit.
CHUNK = 500


def sync_assignments(session: Session, task: RegistryTask) -> None:
    """Rewrite the task's assignment and leader rows from its effective unit and leader names."""
    sync_many(session, [task])


def sync_many(session: Session, tasks: Iterable[RegistryTask]) -> None:
    """`sync_assignments` for many tasks: the names of all of them resolved in one batch, one flush."""
    batch = list(tasks)
    if not batch:
        return
    ids = [t.task_id for t in batch]
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        session.exec(delete(Assignment).where(col(Assignment.task_id).in_(chunk)))  # type: ignore[call-overload]
        session.exec(delete(TaskLeader).where(col(TaskLeader.task_id).in_(chunk)))  # type: ignore[call-overload]
    live = [t for t in batch if not t.removed]
    units = resolve_names(session, [name for t in live for _, field in ROLES for name in getattr(t, field)])
    # Plain rows in one multi-row insert each: nothing reads them back as objects in this session.
    assignments = [
        {
            "task_id": t.task_id,
            "role": role,
            "position": position,
            "name": name,
            "unit_id": units[name].unit_id,
            "doc_no": t.doc_no,
            "number": t.number,
        }
        for t in live
        for role, field in ROLES
        for position, name in enumerate(getattr(t, field))
    ]
    leaders = [{"task_id": t.task_id, "position": p, "name": name} for t in live for p, name in enumerate(t.leaders)]
    session.flush()
    if assignments:
        session.execute(insert(Assignment), assignments)
    if leaders:
        session.execute(insert(TaskLeader), leaders)


class Resolver:
    """Unit refs of many tasks with few queries: one pass over assignments, one over units."""

    def __init__(self, session: Session, tasks: Iterable[RegistryTask], *, with_groups: bool = False) -> None:
        ids = [t.task_id for t in tasks]
        self._rows: dict[str, list[Assignment]] = {}
        if ids:
            rows = session.exec(
                select(Assignment)
                .where(col(Assignment.task_id).in_(ids))
                .order_by(Assignment.task_id, Assignment.role, Assignment.position)  # type: ignore[arg-type]
            ).all()
            for row in rows:
                self._rows.setdefault(row.task_id, []).append(row)
        unit_ids = {r.unit_id for rows in self._rows.values() for r in rows}
        self._units = (
            {u.unit_id: u for u in session.exec(select(Unit).where(col(Unit.unit_id).in_(unit_ids))).all()}
            if unit_ids
            else {}
        )
        self.groups = Groups(session) if with_groups else None
        # A name outside the directory is outside the office's scope only once it has a directory:
        # with none yet, every unit a notice names is the office's own.
        self._scoped = session.exec(select(Unit.unit_id).where(Unit.provisional == False).limit(1)).first() is not None  # noqa: E712

    def refs(self, task_id: str, role: str) -> list[UnitRef]:
        out = []
        for row in self._rows.get(task_id, []):
            if row.role != role:
                continue
            unit = self._units.get(row.unit_id)
            out.append(
                UnitRef(
                    unit_id=row.unit_id,
                    name=row.name,
                    canonical=unit.name if unit else None,
                    provisional=unit.provisional if unit else True,
                    is_group=unit.is_group if unit else False,
                    external=self._external(unit),
                )
            )
        return out

    def _external(self, unit: Unit | None) -> bool:
        if unit is not None and unit.kind == "external":
            return True
        return self._scoped and (unit is None or (unit.provisional and not unit.is_group))

    def expanded_ids(self, refs: list[UnitRef]) -> list[str]:
        ids = [r.unit_id for r in refs]
        return self.groups.expand(ids) if self.groups else ids


def to_event(
    task: RegistryTask,
    resolver: Resolver,
    book: LeaderBook,
    *,
    notice: RegistryNotice | None = None,
    correlation_id: str | None = None,
) -> TaskUpserted:
    hosts, cos = resolver.refs(task.task_id, "host"), resolver.refs(task.task_id, "co")
    return TaskUpserted(
        source="registry",
        correlation_id=correlation_id,
        task_id=task.task_id,
        key=task.key,
        notice_id=task.notice_id,
        doc_no=task.doc_no,
        version=task.version,
        number=task.number,
        chapter=task.chapter,
        text=task.text,
        leaders=task.leaders,
        host_units=hosts,
        co_units=cos,
        issued_date=task.issued_date,
        due_date=task.due_date,
        quantities=stored_quantities(task),
        milestones=[Milestone.model_validate(m) for m in task.milestones or []],
        word_targets=[Quantity.model_validate(q) for q in task.word_targets or []],
        deadline_phrase=task.deadline_phrase,
        leader_refs=[book.ref(n, task.issued_date) for n in task.leaders],
        host_unit_ids=resolver.expanded_ids(hosts),
        co_unit_ids=resolver.expanded_ids(cos),
        removed=task.removed,
        supervision=notice.supervision if notice else "supervised",
        supervision_start=notice.supervision_start if notice else None,
    )


def stored_quantities(task: RegistryTask) -> list[Quantity]:
    # Before corrections were checked, an infinite value was stored as null (the JSON column has
    # no infinity); such a row is skipped rather than failing every read of the task.
    return [Quantity.model_validate(q) for q in task.quantities if isinstance(q.get("value"), int | float)]


def to_public(task: RegistryTask, resolver: Resolver, book: LeaderBook) -> TaskPublic:
    return TaskPublic(
        task_id=task.task_id,
        key=task.key,
        notice_id=task.notice_id,
        doc_no=task.doc_no,
        number=task.number,
        chapter=task.chapter,
        text=task.text,
        leaders=task.leaders,
        leader_refs=[book.ref(n, task.issued_date) for n in task.leaders],
        host_units=resolver.refs(task.task_id, "host"),
        co_units=resolver.refs(task.task_id, "co"),
        quantities=stored_quantities(task),
        word_targets=[Quantity.model_validate(q) for q in task.word_targets or []],
        deadline_phrase=task.deadline_phrase,
        due_date=task.due_date,
        issued_date=task.issued_date,
        corrected=sorted(task.corrections),
        removed=task.removed,
        version=task.version,
    )


def publish_tasks(
    session: Session,
    subjects: Subjects,
    tasks: Iterable[RegistryTask],
    *,
    correlation_id: str | None = None,
) -> int:
    """Stage `task.upserted` for each task; it goes out when the session commits."""
    batch = list(tasks)
    if not batch:
        return 0
    resolver = Resolver(session, batch, with_groups=True)
    book = LeaderBook(session)
    doc_nos = {t.doc_no for t in batch}
    notices = {n.doc_no: n for n in session.exec(select(RegistryNotice).where(col(RegistryNotice.doc_no).in_(doc_nos)))}
    for task in batch:
        event = to_event(task, resolver, book, notice=notices.get(task.doc_no), correlation_id=correlation_id)
        stage(session, subjects.task_upserted, event)
    return len(batch)


def republish(
    session: Session, subjects: Subjects, task_ids: Iterable[str], *, now: datetime, correlation_id: str | None = None
) -> int:
    """A directory change altered how these tasks resolve: new version, new event, same text."""
    ids = sorted(set(task_ids))
    if not ids:
        return 0
    tasks = session.exec(select(RegistryTask).where(col(RegistryTask.task_id).in_(ids))).all()
    for task in tasks:
        task.version += 1
        task.updated_at = now
        session.add(task)
    session.flush()
    return publish_tasks(session, subjects, tasks, correlation_id=correlation_id)
