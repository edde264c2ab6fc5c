"""The delivery planner: which subscriptions hear a step, written as rows in the caller's session.

The ladder calls the planner inside the transaction that records a step, so a step is kept with
its deliveries or not at all; the worker (`worker.py`) sends the rows later, whatever happened
to the process in between.

Who hears a step: a subscription whose owner (a unit, a post, the office) is one of the step's
recipients, when its filters let the step through; and an office subscription with filters
(say, every 督办 of one notice, for another system's webhook) hears every step they let through,
whoever it is addressed to. An office subscription without filters hears what is addressed to
the office (督办 copies, the office head's turn), not every 临近提醒 of the district.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import event
from sqlmodel import Session, select

from services.common.workdays import WorkCalendar
from services.notify.delivery_models import Delivery, FeedItem, Subscription
from services.notify.outgoing import OutgoingStep
from services.notify.quiet_hours import URGENT_LEVELS, release_at

FILTER_KEYS = ("units", "leaders", "levels", "notices", "rules")


def owner_key(kind: str, owner_id: str) -> str:
    return "office" if kind in ("office", "office_head") else f"{kind}:{owner_id}"


def recipient_keys(step: OutgoingStep) -> dict[str, bool]:
    """Each recipient's owner key → whether it is only copied (抄送)."""
    keys: dict[str, bool] = {}
    for r in step.recipients:
        key = owner_key(r.kind, r.id)
        keys[key] = keys.get(key, True) and r.copy
    return keys


def passes(filters: Mapping[str, Any], step: OutgoingStep) -> bool:
    """Every filter given lets the step through; an empty or missing filter lets everything through."""
    units = {r.id for r in step.recipients if r.kind == "unit"}
    leaders = set(step.leaders) | {r.id for r in step.recipients if r.kind == "post"}
    checks: dict[str, Iterable[str]] = {
        "units": units,
        "leaders": leaders,
        "levels": (step.level,),
        "notices": (step.doc_no,),
        "rules": (step.rule,),
    }
    return all(not filters.get(key) or set(filters[key]) & set(values) for key, values in checks.items())


def hears(sub: Subscription, step: OutgoingStep, keys: Mapping[str, bool]) -> bool:
    if not passes(sub.filters, step):
        return False
    if owner_key(sub.owner_kind, sub.owner_id) in keys:
        return True
    return sub.owner_kind == "office" and any(sub.filters.get(k) for k in FILTER_KEYS)


def delivery_id(step_id: str, subscription_id: str) -> str:
    return hashlib.sha256(f"{step_id}\n{subscription_id}".encode()).hexdigest()[:32]


def audience(keys: Iterable[str]) -> str:
    """Who may see a step in the live feed, as a string a LIKE can search: ",unit:u1,post:p1,office,"."""
    return "," + ",".join(sorted({*keys, "office"})) + ","


_CACHE = "notify.delivery.subscriptions"


def _subscriptions(session: Session) -> list[Subscription]:
    """The subscriptions, read once per transaction however many steps it plans."""
    cached = session.info.get(_CACHE)
    if cached is None:
        cached = session.info[_CACHE] = list(session.exec(select(Subscription)).all())
        event.listen(session, "after_transaction_end", _forget, once=True)
    return cached


def _forget(session: Session, _transaction: object) -> None:
    session.info.pop(_CACHE, None)


class Planner:
    """The `DeliveryPlanner` the ladder calls: one row per (step, subscription), plus the feed item."""

    def __init__(self, calendar: WorkCalendar) -> None:
        self.calendar = calendar

    def __call__(self, session: Session, step: OutgoingStep) -> None:
        keys = recipient_keys(step)
        with session.no_autoflush:
            planned = set(session.exec(select(Delivery.subscription_id).where(Delivery.step_id == step.step_id)).all())
            for sub in _subscriptions(session):
                if sub.subscription_id not in planned and hears(sub, step, keys):
                    self._add(session, step, sub, copy=keys.get(owner_key(sub.owner_kind, sub.owner_id), True))
        session.add(
            FeedItem(
                step_id=step.step_id,
                audience=audience(keys),
                level=step.level,
                title=step.title,
                message=step.message,
                link=step.link,
                task_id=step.task_id,
                raised_at=step.raised_at,
            )
        )

    def _add(self, session: Session, step: OutgoingStep, sub: Subscription, *, copy: bool) -> None:
        due = release_at(step.raised_at, level=step.level, quiet_hours=sub.quiet_hours, calendar=self.calendar)
        if sub.digest_minutes and step.level not in URGENT_LEVELS:
            due += timedelta(minutes=sub.digest_minutes)
        session.add(
            Delivery(
                delivery_id=delivery_id(step.step_id, sub.subscription_id),
                step_id=step.step_id,
                subscription_id=sub.subscription_id,
                escalation_id=step.escalation_id,
                task_id=step.task_id,
                channel=sub.channel,
                recipient=sub.owner_id,
                copy_only=copy,
                level=step.level,
                rule=step.rule,
                doc_no=step.doc_no,
                title=step.title,
                message=step.message,
                link=step.link,
                next_at=due,
                created_at=step.raised_at,
            )
        )
