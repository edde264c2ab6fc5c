"""Registering a parsed notice: stable task ids, versions with their diff, corrections kept."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, select

from proto.notice import NoticeParsed, ParsedTask
from proto.subjects import Subjects
from proto.task import task_id_for, task_key
from services.common.inbox import remember, seen
from services.common.supervision import default_state
from services.registry.held import DropRule, hold_version, is_pending, next_version, supersede_pending
from services.registry.links import suggest_links
from services.registry.models import AuditEntry, NoticeVersion, RegistryNotice, RegistryTask
from services.registry.publish import publish_tasks, sync_many

CONSUMER = "registry-notice-parsed"

# Fields the office may correct; the parser's value is kept beside the correction.
CORRECTABLE = ("text", "leaders", "host_units", "co_units", "deadline_phrase", "due_date", "quantities")
PARSED_FIELDS = ("chapter", *CORRECTABLE)
DEFAULT_RULE = DropRule()


@dataclass
class Registered:
    doc_no: str
    version: int
    published: int = 0
    diff: dict[str, Any] = field(default_factory=dict)

    held: bool = False

    def __bool__(self) -> bool:
        return self.published > 0


def parsed_fields(parsed: ParsedTask) -> dict[str, Any]:
    """The parse of one task as JSON values, the form kept in `RegistryTask.parsed`."""
    return {
        "chapter": parsed.chapter,
        "text": parsed.text,
        "leaders": list(parsed.leaders),
        "host_units": list(parsed.host_units),
        "co_units": list(parsed.co_units),
        "deadline_phrase": parsed.deadline.phrase if parsed.deadline else None,
        "due_date": parsed.deadline.due_date.isoformat() if parsed.deadline else None,
        "quantities": [q.model_dump(mode="json") for q in parsed.quantities],
        # Only where there are some: a task without milestones hashes as it did before they existed.
        **({"milestones": [m.model_dump(mode="json") for m in parsed.milestones]} if parsed.milestones else {}),
        **({"word_targets": [q.model_dump(mode="json") for q in parsed.word_targets]} if parsed.word_targets else {}),
    }


def effective_fields(parsed: dict[str, Any], corrections: dict[str, Any]) -> dict[str, Any]:
    """The flat columns of a task: its parse overlaid with its corrections."""
    effective = {**parsed, **corrections}
    due = effective.get("due_date")
    return {
        "chapter": effective.get("chapter"),
        "text": effective.get("text") or "",
        "leaders": list(effective.get("leaders") or []),
        "host_units": list(effective.get("host_units") or []),
        "co_units": list(effective.get("co_units") or []),
        "deadline_phrase": effective.get("deadline_phrase"),
        "due_date": date.fromisoformat(due) if isinstance(due, str) else due,
        "quantities": list(effective.get("quantities") or []),
        "milestones": list(effective.get("milestones") or []),
        "word_targets": list(effective.get("word_targets") or []),
    }


def apply_effective(task: RegistryTask) -> None:
    """Write parse overlaid with corrections into the flat columns."""
    for name, value in effective_fields(task.parsed, task.corrections).items():
        setattr(task, name, value)


def _content_hash(event: NoticeParsed, tasks: list[dict[str, Any]]) -> str:
    doc = event.parse.doc
    body = {
        "doc": [doc.title, doc.issuer, doc.year, doc.issued_date.isoformat() if doc.issued_date else None],
        "tasks": tasks,
    }
    return hashlib.sha256(json.dumps(body, ensure_ascii=False, sort_keys=True).encode("utf-8")).hexdigest()


@dataclass
class Incoming:
    """A parsed notice reduced to what registering it needs."""

    event: NoticeParsed
    doc_no: str
    fields: dict[int, dict[str, Any]]
    content_hash: str

    @classmethod
    def of(cls, event: NoticeParsed) -> Incoming:
        by_number: dict[int, ParsedTask] = {}
        for parsed in event.parse.tasks:
            by_number.setdefault(parsed.number, parsed)
        fields = {n: parsed_fields(p) for n, p in sorted(by_number.items())}
        content_hash = _content_hash(event, [{"number": n, **f} for n, f in fields.items()])
        doc_no = event.parse.doc.doc_no or f"未编号通知-{event.notice_id}"
        return cls(event=event, doc_no=doc_no, fields=fields, content_hash=content_hash)


@dataclass
class Plan:
    """What a version would do to a notice's tasks, worked out before anything is written."""

    existing: dict[int, RegistryTask]
    added: list[int]
    # number → parsed fields that differ; [] for a removed task coming back unchanged
    changed: dict[int, list[str]]
    removed: list[int]

    @property
    def in_force(self) -> int:
        return sum(not t.removed for t in self.existing.values())

    def diff(self) -> dict[str, Any]:
        changed = [{"number": n, "fields": f} for n, f in self.changed.items()]
        return {"added": self.added, "removed": self.removed, "changed": changed}


def plan_version(session: Session, incoming: Incoming) -> Plan:
    rows = session.exec(select(RegistryTask).where(RegistryTask.doc_no == incoming.doc_no)).all()
    existing = {t.number: t for t in rows}
    added: list[int] = []
    changed: dict[int, list[str]] = {}
    for number, new in incoming.fields.items():
        task = existing.get(number)
        if task is None:
            added.append(number)
            continue
        differs = [k for k in PARSED_FIELDS if task.parsed.get(k) != new.get(k)]
        if differs or task.removed:
            changed[number] = differs
    removed = [n for n, t in sorted(existing.items()) if n not in incoming.fields and not t.removed]
    return Plan(existing=existing, added=added, changed=changed, removed=removed)


def register_notice(
    *,
    session: Session,
    subjects: Subjects,
    event: NoticeParsed,
    now: datetime,
    link: bool = True,
    rule: DropRule = DEFAULT_RULE,
) -> Registered:
    """Register a parsed notice, idempotently, and stage `task.upserted` for what changed.

    The same content again (a redelivery, a re-upload, the docx of the same txt) changes nothing,
    whether it is the version in force or one held pending. A differing content under the same
    文号 becomes the next version: tasks added, changed (corrections kept on the fields the new
    version did not change) and removed (published with `removed=True`), with the diff kept in
    the notice's history; unless it removes more tasks than `rule` allows, when it is held for
    the office (`held.py`) and nothing changes. Either way it supersedes any older pending one.
    """
    incoming = Incoming.of(event)
    doc_no = incoming.doc_no
    if seen(session, CONSUMER, event.event_id):
        return Registered(doc_no=doc_no, version=0)
    notice = session.get(RegistryNotice, doc_no)
    if notice is not None and _known(session, notice, incoming.content_hash):
        remember(session, CONSUMER, event.event_id)
        session.commit()
        return Registered(doc_no=doc_no, version=notice.version)
    plan = plan_version(session, incoming)
    version = 1 if notice is None else next_version(session, doc_no, notice.version)
    supersede_pending(session, doc_no, by=version, now=now)
    if notice is not None and rule.holds(removed=len(plan.removed), in_force=plan.in_force):
        hold_version(
            session,
            event=event,
            doc_no=doc_no,
            version=version,
            based_on=notice.version,
            content_hash=incoming.content_hash,
            task_count=len(incoming.fields),
            diff=plan.diff(),
            now=now,
        )
        registered = Registered(doc_no=doc_no, version=version, diff=plan.diff(), held=True)
    else:
        registered = apply_version(
            session, subjects, incoming, plan, version=version, now=now, actor=f"{doc_no} v{version}", link=link
        )
    remember(session, CONSUMER, event.event_id)
    session.commit()
    return registered


def _known(session: Session, notice: RegistryNotice, content_hash: str) -> bool:
    current = session.exec(
        select(NoticeVersion).where(NoticeVersion.doc_no == notice.doc_no, NoticeVersion.version == notice.version)
    ).first()
    if current is not None and current.content_hash == content_hash:
        return True
    return is_pending(session, notice.doc_no, content_hash)


def apply_version(
    session: Session,
    subjects: Subjects,
    incoming: Incoming,
    plan: Plan,
    *,
    version: int,
    now: datetime,
    actor: str,
    note: str | None = None,
    link: bool = True,
) -> Registered:
    """Make `incoming` the version in force and stage its events; the caller commits.

    `actor` and `note` go into each task's audit entry: the version itself when it applies on
    arrival, the person who confirmed it when it was held.
    """
    doc_no, event = incoming.doc_no, incoming.event
    supervision_changed = _put_notice(session, incoming, version=version, now=now)
    touched: list[RegistryTask] = []
    added = set(plan.added)
    for number in incoming.fields:
        if number in added:
            touched.append(_new_task(incoming, number, now=now))
        elif number in plan.changed:
            task = plan.existing[number]
            _change_task(session, task, incoming, plan.changed[number], now=now, actor=actor, note=note)
            touched.append(task)
    for number in plan.removed:
        task = plan.existing[number]
        _remove_task(session, task, now=now, actor=actor, note=note)
        touched.append(task)
    session.add_all(touched)
    # One flush and one batch of unit names for the whole notice, not one per task.
    session.flush()
    sync_many(session, touched)
    diff = plan.diff()
    session.add(
        NoticeVersion(
            doc_no=doc_no,
            version=version,
            notice_id=event.notice_id,
            content_hash=incoming.content_hash,
            task_count=len(incoming.fields),
            diff=diff,
            received_at=now,
        )
    )
    # A state chosen on this upload reaches the tasks the version left as they were, too.
    kept = [t for t in plan.existing.values() if supervision_changed and t not in touched and not t.removed]
    for task in kept:
        task.version += 1
        task.updated_at = now
        session.add(task)
    published = publish_tasks(session, subjects, [*touched, *kept], correlation_id=event.notice_id)
    if link:
        suggest_links(session, [t for t in touched if not t.removed], now=now)
    return Registered(doc_no=doc_no, version=version, published=published, diff=diff)


def _put_notice(session: Session, incoming: Incoming, *, version: int, now: datetime) -> bool:
    """Write the notice's header; True when its supervision changed for tasks already registered."""
    doc, notice_id = incoming.event.parse.doc, incoming.event.notice_id
    existing = session.get(RegistryNotice, incoming.doc_no)
    notice = existing or RegistryNotice(doc_no=incoming.doc_no, notice_id=notice_id)
    before = (notice.supervision, notice.supervision_start)
    notice.notice_id = notice_id
    notice.title, notice.issuer, notice.year, notice.issued_date = doc.title, doc.issuer, doc.year, doc.issued_date
    notice.version = version
    notice.received_at = now
    _put_supervision(notice, incoming.event, new=existing is None, now=now)
    session.add(notice)
    return existing is not None and before != (notice.supervision, notice.supervision_start)


def _put_supervision(notice: RegistryNotice, event: NoticeParsed, *, new: bool, now: datetime) -> None:
    """A new notice takes the office's choice or the default; a later version only the office's choice."""
    # Events from before ingest sent the upload day: the registry's date stands in.
    uploaded_on = event.uploaded_on or now.date()
    if new:
        notice.supervision = event.supervision or default_state(notice.year, uploaded_on)
        if event.supervision is None and event.parse.review:
            # A doubtful parse (OCR, few tasks, mostly fallbacks) waits as 参考 for the office to check
            # and set 督办中 (PUT …/supervision), instead of being judged and chased at once.
            notice.supervision = "reference"
        notice.supervision_start = event.supervision_start or uploaded_on
        return
    if event.supervision is not None:
        notice.supervision = event.supervision
    if event.supervision_start is not None:
        notice.supervision_start = event.supervision_start


def _new_task(incoming: Incoming, number: int, *, now: datetime) -> RegistryTask:
    doc, new = incoming.event.parse.doc, incoming.fields[number]
    return RegistryTask(
        task_id=task_id_for(incoming.doc_no, number),
        key=task_key(incoming.doc_no, number),
        notice_id=incoming.event.notice_id,
        doc_no=incoming.doc_no,
        number=number,
        issued_date=doc.issued_date,
        year=doc.year,
        parsed=new,
        corrections={},
        updated_at=now,
        **effective_fields(new, {}),
    )


def _change_task(
    session: Session,
    task: RegistryTask,
    incoming: Incoming,
    differs: list[str],
    *,
    now: datetime,
    actor: str,
    note: str | None,
) -> None:
    doc = incoming.event.parse.doc
    before = {k: getattr(task, k) for k in PARSED_FIELDS}
    # A correction stands only where the parser still says what it said when corrected.
    dropped = {k: v for k, v in task.corrections.items() if k in differs}
    task.corrections = {k: v for k, v in task.corrections.items() if k not in differs}
    task.parsed = incoming.fields[task.number]
    task.removed = False
    task.notice_id = incoming.event.notice_id
    task.issued_date, task.year = doc.issued_date, doc.year
    task.version += 1
    task.updated_at = now
    apply_effective(task)
    after = {k: getattr(task, k) for k in PARSED_FIELDS}
    changes = {
        k: {"before": _json(before[k]), "after": _json(after[k])} for k in PARSED_FIELDS if before[k] != after[k]
    }
    notes = [note] if note else []
    if dropped:
        notes.append(f"新版本改动了已更正的字段，更正不再适用：{'、'.join(sorted(dropped))}")
    session.add(
        AuditEntry(
            task_id=task.task_id,
            at=now,
            actor=actor,
            action="reingest",
            changes=changes,
            version=task.version,
            note="；".join(notes) or None,
        )
    )


def _remove_task(session: Session, task: RegistryTask, *, now: datetime, actor: str, note: str | None) -> None:
    task.removed = True
    task.version += 1
    task.updated_at = now
    session.add(
        AuditEntry(
            task_id=task.task_id, at=now, actor=actor, action="removed", changes={}, version=task.version, note=note
        )
    )


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value
