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
from services.registry.links import suggest_links
from services.registry.models import AuditEntry, NoticeVersion, RegistryNotice, RegistryTask
from services.registry.publish import publish_tasks, sync_many

CONSUMER = "registry-notice-parsed"

# Fields the office may correct; the parser's value is kept beside the correction.
CORRECTABLE = ("text", "leaders", "host_units", "co_units", "deadline_phrase", "due_date", "quantities")
PARSED_FIELDS = ("chapter", *CORRECTABLE)


@dataclass
class Registered:
    doc_no: str
    version: int
    published: int = 0
    diff: dict[str, Any] = field(default_factory=dict)

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


def register_notice(
    *, session: Session, subjects: Subjects, event: NoticeParsed, now: datetime, link: bool = True
) -> Registered:
    """Register a parsed notice, idempotently, and stage `task.upserted` for what changed.

    The same content again (a redelivery, a re-upload, the docx of the same txt) changes nothing.
    A differing content under the same 文号 becomes the next version: tasks added, changed
    (corrections kept on the fields the new version did not change) and removed (published with
    `removed=True`), with the diff kept in the notice's history.
    """
    doc = event.parse.doc
    doc_no = doc.doc_no or f"未编号通知-{event.notice_id}"
    if seen(session, CONSUMER, event.event_id):
        return Registered(doc_no=doc_no, version=0)
    by_number: dict[int, ParsedTask] = {}
    for parsed in event.parse.tasks:
        by_number.setdefault(parsed.number, parsed)
    fields = {n: parsed_fields(p) for n, p in sorted(by_number.items())}
    content_hash = _content_hash(event, [{"number": n, **f} for n, f in fields.items()])
    notice = session.get(RegistryNotice, doc_no)
    if notice is not None:
        current = session.exec(
            select(NoticeVersion).where(NoticeVersion.doc_no == doc_no, NoticeVersion.version == notice.version)
        ).first()
        if current is not None and current.content_hash == content_hash:
            remember(session, CONSUMER, event.event_id)
            session.commit()
            return Registered(doc_no=doc_no, version=notice.version)
    version = 1 if notice is None else notice.version + 1
    if notice is None:
        notice = RegistryNotice(doc_no=doc_no, notice_id=event.notice_id)
    notice.notice_id = event.notice_id
    notice.title, notice.issuer, notice.year, notice.issued_date = doc.title, doc.issuer, doc.year, doc.issued_date
    notice.version = version
    notice.received_at = now
    session.add(notice)

    existing = {t.number: t for t in session.exec(select(RegistryTask).where(RegistryTask.doc_no == doc_no)).all()}
    actor = f"{doc_no} v{version}"
    added: list[int] = []
    changed: list[dict[str, Any]] = []
    touched: list[RegistryTask] = []
    for number, new in fields.items():
        task = existing.get(number)
        if task is None:
            task = RegistryTask(
                task_id=task_id_for(doc_no, number),
                key=task_key(doc_no, number),
                notice_id=event.notice_id,
                doc_no=doc_no,
                number=number,
                issued_date=doc.issued_date,
                year=doc.year,
                parsed=new,
                corrections={},
                updated_at=now,
                **effective_fields(new, {}),
            )
            added.append(number)
        else:
            differs = [k for k in PARSED_FIELDS if task.parsed.get(k) != new.get(k)]
            if not differs and not task.removed:
                continue
            before = {k: getattr(task, k) for k in PARSED_FIELDS}
            # A correction stands only where the parser still says what it said when corrected.
            dropped = {k: v for k, v in task.corrections.items() if k in differs}
            task.corrections = {k: v for k, v in task.corrections.items() if k not in differs}
            task.parsed = new
            task.removed = False
            task.notice_id = event.notice_id
            task.issued_date, task.year = doc.issued_date, doc.year
            task.version += 1
            task.updated_at = now
            apply_effective(task)
            after = {k: getattr(task, k) for k in PARSED_FIELDS}
            changes = {
                k: {"before": _json(before[k]), "after": _json(after[k])}
                for k in PARSED_FIELDS
                if before[k] != after[k]
            }
            note = f"新版本改动了已更正的字段，更正不再适用：{'、'.join(sorted(dropped))}" if dropped else None
            session.add(
                AuditEntry(
                    task_id=task.task_id,
                    at=now,
                    actor=actor,
                    action="reingest",
                    changes=changes,
                    version=task.version,
                    note=note,
                )
            )
            changed.append({"number": number, "fields": differs})
        session.add(task)
        touched.append(task)
    removed: list[int] = []
    for number, task in sorted(existing.items()):
        if number in fields or task.removed:
            continue
        task.removed = True
        task.version += 1
        task.updated_at = now
        session.add(task)
        session.add(
            AuditEntry(task_id=task.task_id, at=now, actor=actor, action="removed", changes={}, version=task.version)
        )
        touched.append(task)
        removed.append(number)
    # One flush and one batch of unit names for the whole notice, not one per task.
    session.flush()
    sync_many(session, touched)

    diff = {"added": added, "removed": removed, "changed": changed}
    session.add(
        NoticeVersion(
            doc_no=doc_no,
            version=version,
            notice_id=event.notice_id,
            content_hash=content_hash,
            task_count=len(fields),
            diff=diff,
            received_at=now,
        )
    )
    published = publish_tasks(session, subjects, touched, correlation_id=event.notice_id)
    if link:
        suggest_links(session, [t for t in touched if not t.removed], now=now)
    remember(session, CONSUMER, event.event_id)
    session.commit()
    return Registered(doc_no=doc_no, version=version, published=published, diff=diff)


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value
