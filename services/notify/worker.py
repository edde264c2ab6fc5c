"""The delivery worker: sends due rows, reads each answer, and keeps every try.

State lives in the database only: a row is claimed by pushing its `next_at` past a lease before
the send, so a worker killed mid-send leaves it due again after the lease, and the receiver
drops the repeat by its Idempotency-Key. Everything due for one subscription in one pass goes
out as one message (a digest when there is more than one item).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from services.common.clock import Clock
from services.common.workdays import WorkCalendar
from services.notify.channels import email, robots, webhook
from services.notify.channels.base import Outcome, Target
from services.notify.deliveries import Planner
from services.notify.delivery_models import (
    ACTIVE,
    BROKEN,
    DEAD,
    PENDING,
    SENT,
    Delivery,
    DeliveryAttempt,
    Subscription,
)
from services.notify.delivery_settings import DeliverySettings
from services.notify.outgoing import OutgoingStep, Recipient
from services.notify.quiet_hours import after, backoff_s, release_at
from services.notify.ratelimit import TargetLimiter
from services.notify.render import Item, render

log = logging.getLogger(__name__)
T = TypeVar("T")
CLAIM_MAX = 5000
SENDS_AT_ONCE = 32
ROBOTS = ("dingtalk", "wecom")


@dataclass(frozen=True)
class Batch:
    subscription_id: str
    name: str
    target: Target
    delivery_ids: tuple[str, ...]
    items: tuple[Item, ...]


def _item(row: Delivery) -> Item:
    return Item(
        delivery_id=row.delivery_id,
        idempotency_key=f"{row.step_id}:{row.subscription_id}",
        step_id=row.step_id,
        task_id=row.task_id,
        level=row.level,
        rule=row.rule,
        doc_no=row.doc_no,
        title=row.title,
        message=row.message,
        link=row.link,
        copy_only=row.copy_only,
    )


async def _on_loop(work: Callable[..., T], /, *args: Any) -> T:
    return work(*args)


class DeliveryWorker:
    def __init__(
        self,
        engine: Engine,
        settings: DeliverySettings,
        clock: Clock,
        calendar: WorkCalendar,
        *,
        run_db: Callable[..., Awaitable[Any]] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.clock = clock
        self.calendar = calendar
        self.planner = Planner(calendar)
        self.limiter = TargetLimiter()
        self.run_db = run_db or _on_loop
        self.rng = rng or random.Random()
        self.wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.messages_sent = 0  # messages (a digest is one) the receivers took, since the start
        self._client: httpx.AsyncClient | None = None

    def nudge(self) -> None:
        """Look for due rows now rather than at the next interval; safe from any thread."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self.wake.set)

    # -- the loop ---------------------------------------------------------------------------
    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        try:
            while True:
                try:
                    while await self.run_once():
                        pass
                except Exception:
                    log.warning("delivery pass failed; will retry", exc_info=True)
                self.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), self.settings.worker_interval_s)
        finally:
            await self.close()

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            limits = httpx.Limits(max_connections=SENDS_AT_ONCE * 2, max_keepalive_connections=SENDS_AT_ONCE * 2)
            self._client = httpx.AsyncClient(timeout=self.settings.send_timeout_s, limits=limits, trust_env=False)
        return self._client

    async def run_once(self) -> int:
        """Send what is due now; the number of deliveries settled (sent, retried or dead)."""
        now = self.clock.now()
        batches = await self.run_db(self._claim, now)
        if not batches:
            return 0
        gate = asyncio.Semaphore(SENDS_AT_ONCE)

        async def one(batch: Batch) -> Outcome:
            async with gate:
                return await self._send(batch, now)

        outcomes = await asyncio.gather(*(one(b) for b in batches))
        self.messages_sent += sum(1 for o in outcomes if o.verdict == "sent")
        await self.run_db(self._settle, now, list(zip(batches, outcomes, strict=True)))
        return sum(len(b.items) for b in batches)

    # -- claiming ---------------------------------------------------------------------------
    def _claim(self, now: datetime) -> list[Batch]:
        with Session(self.engine, expire_on_commit=False) as session:
            stmt = (
                select(Delivery, Subscription)
                .join(Subscription, col(Subscription.subscription_id) == col(Delivery.subscription_id))
                .where(Delivery.state == PENDING, col(Delivery.next_at) <= now, Subscription.state == ACTIVE)
                .order_by(col(Delivery.next_at), col(Delivery.created_at))
                .limit(CLAIM_MAX)
            )
            if self.engine.dialect.name != "sqlite":
                stmt = stmt.with_for_update(skip_locked=True, of=Delivery)  # type: ignore[arg-type]
            grouped: dict[str, list[Delivery]] = defaultdict(list)
            subs: dict[str, Subscription] = {}
            for row, sub in session.exec(stmt).all():
                grouped[sub.subscription_id].append(row)
                subs[sub.subscription_id] = sub
            batches = [b for sid, rows in grouped.items() if (b := self._batch(subs[sid], rows, now)) is not None]
            session.commit()
        return batches

    def _batch(self, sub: Subscription, rows: list[Delivery], now: datetime) -> Batch | None:
        """Rows that may go now, leased; quiet ones moved to their window, rate-limited ones queued."""
        ready = []
        for row in rows:
            due = release_at(now, level=row.level, quiet_hours=sub.quiet_hours, calendar=self.calendar)
            if due > now:
                row.next_at = due
            else:
                ready.append(row)
        ready = ready[: self.settings.batch_max]
        if not ready:
            return None
        if sub.channel in ROBOTS:
            free_at = self.limiter.take(sub.target, now, self.settings.robot_per_minute)
            if free_at is not None:
                for row in ready:
                    row.next_at = free_at
                return None
        for row in ready:
            row.next_at = now + timedelta(seconds=self.settings.lease_s)
        return Batch(
            subscription_id=sub.subscription_id,
            name=sub.name,
            target=Target(sub.channel, sub.target, sub.secret),
            delivery_ids=tuple(r.delivery_id for r in ready),
            items=tuple(_item(r) for r in ready),
        )

    # -- sending ----------------------------------------------------------------------------
    async def _send(self, batch: Batch, now: datetime) -> Outcome:
        rendered = render(batch.items, self.settings.keyword)
        channel = batch.target.channel
        try:
            if channel == "webhook":
                secret = self.settings.webhook_secret.get_secret_value()
                return await webhook.send(self.client(), batch.target, batch.items, rendered, now=now, secret=secret)
            if channel == "dingtalk":
                return await robots.send_dingtalk(self.client(), batch.target, rendered, now=now)
            if channel == "wecom":
                return await robots.send_wecom(self.client(), batch.target, rendered)
            if channel == "email":
                return await self._send_email(batch, rendered)
        except Exception as error:  # a bug in one channel must not stop the others
            log.warning("delivery to %s failed unexpectedly", batch.subscription_id, exc_info=True)
            return Outcome("retry", 0, f"{type(error).__name__}")
        return Outcome("broken", 0, f"unknown channel {channel}")

    async def _send_email(self, batch: Batch, rendered: Any) -> Outcome:
        s = self.settings
        mail = email.message(batch.target, rendered, sender=s.smtp_from, key=webhook.idempotency_key(batch.items))
        return await email.send(
            mail,
            host=s.smtp_host,
            port=s.smtp_port,
            user=s.smtp_user,
            password=s.smtp_password.get_secret_value(),
            starttls=s.smtp_starttls,
            timeout=s.send_timeout_s,
        )

    # -- settling ---------------------------------------------------------------------------
    def _settle(self, now: datetime, results: Sequence[tuple[Batch, Outcome]]) -> None:
        with Session(self.engine, expire_on_commit=False) as session:
            for batch, outcome in results:
                rows = session.exec(select(Delivery).where(col(Delivery.delivery_id).in_(batch.delivery_ids))).all()
                for row in rows:
                    self._apply(session, row, outcome, now, len(batch.items))
                if outcome.verdict == "broken":
                    self._break(session, batch, outcome, now)
            session.commit()

    def _apply(self, session: Session, row: Delivery, outcome: Outcome, now: datetime, size: int) -> None:
        verdict = outcome.verdict
        if verdict == "sent":
            row.state, row.sent_at, row.last_error = SENT, now, ""
        elif verdict == "rate_limited":
            row.next_at = after(now, backoff_s(2, base_s=30.0, max_s=60.0, rng=self.rng))
            row.last_error = outcome.answer
        elif verdict == "broken":
            row.next_at, row.last_error = now, outcome.answer  # waits with its subscription
        else:
            row.attempts += 1
            row.last_error = outcome.answer
            if row.attempts >= self.settings.max_attempts:
                row.state, verdict = DEAD, "dead"
            else:
                s = self.settings
                row.next_at = after(
                    now, backoff_s(row.attempts, base_s=s.retry_base_s, max_s=s.retry_max_s, rng=self.rng)
                )
        session.add(row)
        session.add(
            DeliveryAttempt(
                delivery_id=row.delivery_id,
                task_id=row.task_id,
                at=now,
                outcome=verdict,
                status=outcome.status,
                answer=outcome.answer,
                batch=size,
            )
        )

    def _break(self, session: Session, batch: Batch, outcome: Outcome, now: datetime) -> None:
        """The receiver says the robot is gone: stop the subscription and tell the office."""
        sub = session.get(Subscription, batch.subscription_id)
        if sub is None or sub.state == BROKEN:
            return
        sub.state, sub.broken_reason, sub.updated_at = BROKEN, outcome.answer, now
        session.add(sub)
        stamp = now.strftime("%Y%m%d%H%M%S")
        self.planner(
            session,
            OutgoingStep(
                step_id=f"broken-{sub.subscription_id}-{stamp}",
                escalation_id="",
                task_id="",
                doc_no="",
                task_number=0,
                level="reminder",
                rule="subscription_broken",
                step=1,
                title=f"【订阅失效】{sub.name}",
                message=(
                    f"订阅“{sub.name}”（{sub.channel}）的接收方拒绝接收：{outcome.answer or outcome.status}。"
                    "该订阅已暂停，消息暂存待发；请核对机器人地址与密钥后修改订阅以恢复。"
                ),
                link="",
                raised_on=self.clock.date_of(now),
                raised_at=now,
                recipients=(Recipient(kind="office", id="office", name="督查室"),),
            ),
        )


def replay(session: Session, delivery_id: str, now: datetime) -> Delivery | None:
    """A dead letter due again with its tries reset; None if there is no such dead letter."""
    row = session.get(Delivery, delivery_id)
    if row is None or row.state != DEAD:
        return None
    row.state, row.attempts, row.next_at = PENDING, 0, now
    session.add(row)
    return row
