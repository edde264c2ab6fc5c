"""Quiet hours and holidays in China time, digests, and e-mail through a real SMTP server."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.engine import Engine

from services.common.clock import CHINA, ManualClock
from services.common.workdays import WorkCalendar
from services.notify.delivery_models import PENDING, SENT
from services.notify.quiet_hours import parse_quiet_hours, release_at
from services.notify.worker import DeliveryWorker
from tests.delivery.conftest import subscribe
from tests.delivery.receivers import Receiver
from tests.delivery.steps import step
from tests.delivery.test_channels import deliveries, plan


def china(*args: int) -> datetime:
    return datetime(*args, tzinfo=CHINA).astimezone(UTC)


def test_quiet_hours_parse_and_windows() -> None:
    cal = WorkCalendar()
    assert parse_quiet_hours("") is None
    for bad in ("22-08", "25:00-08:00", "22:00-22:00", "22:00~08:00", "22:00-08:00 "):
        with pytest.raises(ValueError):
            parse_quiet_hours(bad)
    monday_23 = china(2026, 3, 2, 23, 0)
    assert release_at(monday_23, level="reminder", quiet_hours="22:00-08:00", calendar=cal) == china(2026, 3, 3, 8, 0)
    assert release_at(monday_23, level="red", quiet_hours="22:00-08:00", calendar=cal) == monday_23
    assert release_at(monday_23, level="reminder", quiet_hours="", calendar=cal) == monday_23
    # 国庆 2026: 1–7 October off; the window opens on the first working day after, at 08:00.
    holiday = china(2026, 10, 2, 10, 0)
    first = cal.next_working_day(date(2026, 10, 2))
    assert first > date(2026, 10, 7)
    assert release_at(holiday, level="advance", quiet_hours="22:00-08:00", calendar=cal) == china(
        first.year, first.month, first.day, 8, 0
    )


async def test_night_holds_all_but_duban_and_releases_at_the_window_together(
    engine: Engine, clock: ManualClock, worker: DeliveryWorker, receiver: Receiver
) -> None:
    subscribe(engine, "s1", "webhook", f"{receiver.url}/hook/a", quiet_hours="22:00-08:00")
    night = china(2026, 3, 2, 23, 0)
    clock.set(night)
    plan(worker, engine, *(step(n, at=night) for n in range(3)), step(9, level="red", at=night))
    await worker.run_once()
    [urgent] = receiver.accepted
    assert [i["level"] for i in urgent.json()["items"]] == ["red"]
    clock.set(china(2026, 3, 3, 7, 59))
    assert await worker.run_once() == 0
    clock.set(china(2026, 3, 3, 8, 0))
    assert await worker.run_once() == 3
    assert len(receiver.accepted) == 2 and len(receiver.accepted[1].json()["items"]) == 3
    assert all(d.state == SENT for d in deliveries(engine))


async def test_fifty_items_in_one_window_make_one_message_grouped_by_notice_and_level(
    engine: Engine, clock: ManualClock, worker: DeliveryWorker, receiver: Receiver
) -> None:
    subscribe(engine, "d1", "dingtalk", f"{receiver.url}/dingtalk/r1", secret="SEC-robot", digest_minutes=30)
    docs = ("济兖政发〔2025〕1号", "兖政办发〔2026〕3号")
    levels = ("advance", "reminder")
    plan(worker, engine, *(step(n, doc_no=docs[n % 2], level=levels[n // 25]) for n in range(50)))
    assert await worker.run_once() == 0
    clock.advance(timedelta(minutes=30))
    assert await worker.run_once() == 50
    [got] = receiver.accepted
    text = got.json()["markdown"]["text"]
    assert "共 50 项" in got.json()["markdown"]["title"]
    assert text.index("#### 兖政办发〔2026〕3号") < text.index("#### 济兖政发〔2025〕1号")
    assert text.count("**催办**（12 项）") + text.count("**催办**（13 项）") == 2
    assert text.count("**临近提醒**") == 2
    assert all(f"第{n}项" in text for n in range(50))


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(parsed)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


async def test_email_plain_and_html_through_smtp(
    engine: Engine, worker: DeliveryWorker, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    worker.settings.smtp_port = port
    subscribe(engine, "e1", "email", "duban@example.org", owner_kind="post", owner_id="p-quzhang")
    plan(worker, engine, step(7, level="red", units=("u1",), posts=("p-quzhang",)))
    assert await worker.run_once() == 1
    await asyncio.sleep(0)
    [mail] = inbox.messages
    assert mail["To"] == "duban@example.org" and "第7项" in mail["Subject"]
    assert "滞后 35 个百分点" in mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "<a href=" in mail.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert deliveries(engine)[0].state == SENT


async def test_smtp_down_is_retried(engine: Engine, worker: DeliveryWorker) -> None:
    worker.settings.smtp_port = 1  # nothing listens
    subscribe(engine, "e1", "email", "duban@example.org")
    plan(worker, engine, step(1))
    await worker.run_once()
    [row] = deliveries(engine)
    assert row.state == PENDING and row.attempts == 1 and row.last_error
