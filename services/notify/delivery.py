"""Delivery wired into the notify service: tables, the worker, the routes' needs, and the planner.

`register_delivery(runtime)` is the one call `app.py` makes; it returns the `DeliveryPlanner`
the ladder hands each step to.
"""

from __future__ import annotations

import logging
import weakref
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from proto.bulletin import BulletinPublished
from proto.directory import ContactChanged
from services.common.inbox import remember, seen
from services.common.runtime import ServiceRuntime
from services.common.workdaysfile import load_calendar
from services.notify.bulletins import bulletin_step, subscribers
from services.notify.delivery_models import DELIVERY_TABLES, Contact, Delivery, DeliveryAttempt, Subscription
from services.notify.delivery_schemas import AttemptPublic
from services.notify.delivery_settings import DeliverySettings
from services.notify.outgoing import DeliveryPlanner, OutgoingStep
from services.notify.subscriptions import OFFICE_ID, apply_defaults
from services.notify.worker import DeliveryWorker

log = logging.getLogger(__name__)
CONTACT_CONSUMER = "notify-contact-changed"
BULLETIN_CONSUMER = "notify-bulletin-published"


class WakingPlanner:
    """The planner, and a nudge to the worker once the caller's transaction commits."""

    def __init__(self, worker: DeliveryWorker) -> None:
        self.worker = worker

    def __call__(self, session: Session, step: OutgoingStep) -> None:
        self.worker.planner(session, step)
        if not event.contains(session, "after_commit", self._wake):
            event.listen(session, "after_commit", self._wake, once=True)

    def _wake(self, _session: Any) -> None:
        self.worker.nudge()


def office_contact(settings: DeliverySettings) -> Contact:
    """The office's own contact fields, from settings (the directory lists units and posts)."""
    return Contact(
        owner_kind="office",
        owner_id=OFFICE_ID,
        name="督查室",
        robot_channel=settings.office_robot_channel,
        robot_url=settings.office_robot_url,
        robot_secret=settings.office_robot_secret.get_secret_value(),
        email=settings.office_email,
    )


def register_delivery(runtime: ServiceRuntime[Any], settings: DeliverySettings | None = None) -> DeliveryPlanner:
    settings = settings or DeliverySettings()
    runtime.tables.extend(DELIVERY_TABLES)
    calendar = load_calendar(runtime.settings.workdays_file)
    worker = DeliveryWorker(runtime.engine, settings, runtime.clock, calendar, run_db=runtime.run_db)
    _WORKERS[runtime] = worker

    async def run() -> None:
        def office_defaults() -> None:
            with Session(runtime.engine) as session:
                apply_defaults(session, office_contact(settings), runtime.clock.now())
                session.commit()

        try:
            await runtime.run_db(office_defaults)
        except Exception:  # the worker must run even if the office's defaults cannot be written now
            log.warning("the office's default subscriptions were not written", exc_info=True)
        await worker.run()

    runtime.add_background(run)

    async def on_contact(event: ContactChanged) -> None:
        await runtime.run_db(keep_contact, runtime.engine, event, runtime.clock.now())

    runtime.consume(
        runtime.subjects.directory_contact_changed_all,
        consumer=CONTACT_CONSUMER,
        model=ContactChanged,
        handle=on_contact,
        description="Keeps the units' and posts' contacts; their default subscriptions follow them.",
    )
    planner = WakingPlanner(worker)

    async def on_bulletin(event: BulletinPublished) -> None:
        await runtime.run_db(
            plan_bulletin, runtime.engine, planner, event, settings.console_base_url, runtime.clock.now()
        )

    runtime.consume(
        runtime.subjects.bulletin_published,
        consumer=BULLETIN_CONSUMER,
        model=BulletinPublished,
        handle=on_bulletin,
        description="Delivers each published bulletin's summary and link to every subscriber.",
    )
    return planner


def plan_bulletin(
    engine: Engine, planner: DeliveryPlanner, event: BulletinPublished, base_url: str, now: datetime
) -> None:
    with Session(engine) as session:
        if seen(session, BULLETIN_CONSUMER, event.event_id):
            return
        planner(session, bulletin_step(event, subscribers(session), base_url=base_url, now=now))
        remember(session, BULLETIN_CONSUMER, event.event_id)
        session.commit()


def keep_contact(engine: Engine, event: ContactChanged, now: datetime) -> None:
    """notify's copy of one contact, and the default subscriptions made from it, in one transaction."""
    with Session(engine) as session:
        row = session.get(Contact, (event.kind, event.owner_id)) or Contact(
            owner_kind=event.kind, owner_id=event.owner_id
        )
        for key in ("name", "robot_channel", "robot_url", "robot_secret", "email", "removed"):
            setattr(row, key, getattr(event, key))
        row.updated_at = now
        session.add(row)
        apply_defaults(session, row, now)
        session.commit()


# Each runtime's worker, for the routes that nudge it; gone with its runtime.
_WORKERS: weakref.WeakKeyDictionary[ServiceRuntime[Any], DeliveryWorker] = weakref.WeakKeyDictionary()


def worker_of(runtime: ServiceRuntime[Any]) -> DeliveryWorker | None:
    return _WORKERS.get(runtime)


def planner_of(runtime: ServiceRuntime[Any]) -> DeliveryPlanner | None:
    worker = worker_of(runtime)
    return WakingPlanner(worker) if worker is not None else None


def delivery_history(session: Session, task_id: str) -> list[AttemptPublic]:
    """Every try of every delivery of a task's steps, oldest first, with the receiver's answer."""
    stmt = (
        select(DeliveryAttempt, Delivery, Subscription)
        .join(Delivery, col(Delivery.delivery_id) == col(DeliveryAttempt.delivery_id))
        .join(Subscription, col(Subscription.subscription_id) == col(Delivery.subscription_id), isouter=True)
        .where(DeliveryAttempt.task_id == task_id)
        .order_by(col(DeliveryAttempt.at), col(DeliveryAttempt.id))
    )
    return [
        AttemptPublic(
            at=attempt.at,
            delivery_id=row.delivery_id,
            step_id=row.step_id,
            channel=row.channel,
            recipient=row.recipient,
            subscription=sub.name if sub is not None else row.subscription_id,
            outcome=attempt.outcome,
            status=attempt.status,
            answer=attempt.answer,
            items=attempt.batch,
        )
        for attempt, row, sub in session.exec(stmt).all()
    ]
