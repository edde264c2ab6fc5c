"""What progress does with events for bulletins: keep the ladder's marks, make the scheduled drafts.

Both are idempotent: a mark is keyed by its escalation id (repeats of one cause share it), and a
scheduled draft has an id made of its schedule entry, notices and period, so a redelivered or
repeated tick of its due day finds it made.
"""

from __future__ import annotations

import logging

from sqlmodel import Session

from proto.clock import ClockTicked
from proto.escalation import EscalationRaised
from services.common.errors import ApiError
from services.common.inbox import remember, seen
from services.progress import bulletin_schedule, bulletins
from services.progress.bulletin_schedule import Entry
from services.progress.models import Bulletin, BulletinMark
from services.progress.status import Rules

log = logging.getLogger(__name__)

MARK_CONSUMER = "progress-escalation-head"
SCHEDULE_CONSUMER = "progress-bulletin-schedule"
HEAD = "head"  # the ladder's top level: 提级督办, named in the next bulletin


def apply_escalation_raised(*, session: Session, event: EscalationRaised) -> bool:
    """Keep a mark for the bulletin of a head-level escalation; True when a new one was kept."""
    if seen(session, MARK_CONSUMER, event.event_id):
        return False
    new = event.level == HEAD and session.get(BulletinMark, event.escalation_id) is None
    if new:
        session.add(
            BulletinMark(
                escalation_id=event.escalation_id,
                task_id=event.task_id,
                unit_id=event.unit_id or "",
                level=event.level,
                message=event.message,
                raised_at=event.occurred_at,
            )
        )
    remember(session, MARK_CONSUMER, event.event_id)
    session.commit()
    return new


def _notices(session: Session, entry: Entry) -> list[str]:
    if not entry.notices:
        return bulletins.supervised_notices(session)
    try:
        return bulletins.resolve_notices(session, list(entry.notices))
    except ApiError as exc:
        log.warning("scheduled bulletin %r skipped: %s", entry.text, exc.en)
        return []


def apply_schedule_tick(
    *, session: Session, event: ClockTicked, rules: Rules, layout: bulletins.Layout, entries: list[Entry]
) -> list[str]:
    """Draft each bulletin the schedule says falls due on the tick's day; returns the ids made."""
    if seen(session, SCHEDULE_CONSUMER, event.event_id):
        return []
    made = []
    for entry in entries:
        period = bulletin_schedule.due_on(entry, event.today, rules.calendar)
        doc_nos = _notices(session, entry) if period else []
        if period is None or not doc_nos:
            continue
        bulletin_id = bulletin_schedule.scheduled_id(entry, "|".join(doc_nos), period)
        if session.get(Bulletin, bulletin_id) is not None:
            continue
        bulletins.create_draft(
            session=session,
            doc_nos=doc_nos,
            period=period,
            rules=rules,
            layout=layout,
            now=event.occurred_at,
            actor="schedule",
            bulletin_id=bulletin_id,
            schedule_rule=entry.text,
        )
        made.append(bulletin_id)
    remember(session, SCHEDULE_CONSUMER, event.event_id)
    session.commit()
    return made
