"""Each channel against a real receiver on loopback: signatures, formats, error codes, retries."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from services.common.clock import ManualClock
from services.notify.delivery_models import BROKEN, DEAD, PENDING, SENT, Delivery, DeliveryAttempt, Subscription
from services.notify.worker import DeliveryWorker, replay
from tests.delivery.conftest import subscribe
from tests.delivery.receivers import Receiver
from tests.delivery.steps import step


def plan(worker: DeliveryWorker, engine: Engine, *steps: object) -> None:
    with Session(engine) as session:
        for s in steps:
            worker.planner(session, s)  # type: ignore[arg-type]
        session.commit()


def deliveries(engine: Engine) -> list[Delivery]:
    with Session(engine) as session:
        return list(session.exec(select(Delivery)).all())


def attempts(engine: Engine) -> list[DeliveryAttempt]:
    with Session(engine) as session:
        return list(session.exec(select(DeliveryAttempt).order_by(DeliveryAttempt.id)).all())  # type: ignore[arg-type]


async def drain(worker: DeliveryWorker, clock: ManualClock, *, step_s: float = 61, passes: int = 200) -> None:
    """Run the worker, moving the clock on, until nothing is pending."""
    for _ in range(passes):
        await worker.run_once()
        if all(d.state != PENDING for d in deliveries(worker.engine)):
            return
        clock.advance(timedelta(seconds=step_s))
    raise AssertionError("deliveries still pending")


async def test_webhook_signed_json_with_idempotency_key(
    engine: Engine, worker: DeliveryWorker, receiver: Receiver
) -> None:
    subscribe(engine, "s1", "webhook", f"{receiver.url}/hook/a")
    plan(worker, engine, step(1))
    assert await worker.run_once() == 1
    [got] = receiver.accepted
    assert got.headers["idempotency-key"] == "step-reminder-1:s1"
    body = got.json()
    assert body["items"][0]["task_id"] == "task-1" and "滞后 35 个百分点" in body["items"][0]["message"]
    [row] = deliveries(engine)
    assert row.state == SENT
    [tried] = attempts(engine)
    assert (tried.outcome, tried.status, tried.answer) == ("sent", 200, '{"ok":true}')


async def test_webhook_bad_signature_is_retried_then_dead_then_replayed(
    engine: Engine, clock: ManualClock, worker: DeliveryWorker, receiver: Receiver
) -> None:
    worker.settings.max_attempts = 3
    subscribe(engine, "s1", "webhook", f"{receiver.url}/hook/a", secret="wrong")
    plan(worker, engine, step(1))
    for _ in range(3):
        await worker.run_once()
        clock.advance(timedelta(hours=1))
    [row] = deliveries(engine)
    assert row.state == DEAD and row.attempts == 3
    assert [a.outcome for a in attempts(engine)] == ["retry", "retry", "dead"]
    assert all(a.status == 401 for a in attempts(engine))
    with Session(engine) as session:
        sub = session.get(Subscription, "s1")
        assert sub is not None
        sub.secret = "hook-secret"
        session.add(sub)
        assert replay(session, row.delivery_id, clock.now()) is not None
        session.commit()
    await worker.run_once()
    assert deliveries(engine)[0].state == SENT and len(receiver.accepted) == 1


async def test_receiver_down_then_up_gets_everything(
    engine: Engine, clock: ManualClock, worker: DeliveryWorker, receiver: Receiver
) -> None:
    subscribe(engine, "s1", "webhook", f"{receiver.url}/hook/a")
    await receiver.stop()
    for n in range(65):  # a step a minute for over an hour, with the receiver down
        plan(worker, engine, step(n))
        await worker.run_once()
        clock.advance(timedelta(minutes=1))
    assert not receiver.accepted and all(d.state == PENDING for d in deliveries(engine))
    assert {a.outcome for a in attempts(engine)} == {"retry"} and attempts(engine)[0].status == 0
    await receiver.start()
    await drain(worker, clock, step_s=600)
    keys = {item["idempotency_key"] for got in receiver.accepted for item in got.json()["items"]}
    assert keys == {f"step-reminder-{n}:s1" for n in range(65)}
    assert receiver.duplicates == 0


async def test_dingtalk_signed_markdown_and_rate_limit_backoff(
    engine: Engine, clock: ManualClock, worker: DeliveryWorker, receiver: Receiver
) -> None:
    subscribe(engine, "d1", "dingtalk", f"{receiver.url}/dingtalk/r1?access_token=abc", secret="SEC-robot")
    # The robot says "too fast" to every third message.
    receiver.on("/dingtalk/r1", lambda n: (200, {"errcode": 130101, "errmsg": "send too fast"}) if n % 3 == 0 else None)
    for n in range(30):
        plan(worker, engine, step(n))
        await worker.run_once()
        clock.advance(timedelta(seconds=1))
    await drain(worker, clock, step_s=7)
    assert all(d.state == SENT for d in deliveries(engine))
    texts = "".join(got.json()["markdown"]["text"] for got in receiver.accepted)
    assert all(f"第{n}项" in texts for n in range(30))
    tries = attempts(engine)
    assert "rate_limited" in {a.outcome for a in tries} and "dead" not in {a.outcome for a in tries}
    assert [why for _got, why in receiver.refused if "130101" not in why] == []
    # Never more than 20 messages to the robot inside any minute of the service's clock.
    sends = sorted({a.at for a in tries})
    assert all(len([t for t in sends if s <= t < s + timedelta(minutes=1)]) <= 20 for s in sends)
    assert receiver.accepted[0].query["access_token"] == "abc"


async def test_revoked_robot_breaks_the_subscription_and_tells_the_office(
    engine: Engine, clock: ManualClock, worker: DeliveryWorker, receiver: Receiver
) -> None:
    subscribe(engine, "d1", "dingtalk", f"{receiver.url}/dingtalk/gone", secret="SEC-robot")
    subscribe(engine, "o1", "webhook", f"{receiver.url}/hook/office", owner_kind="office", owner_id="office")
    receiver.on("/dingtalk/gone", lambda n: (200, {"errcode": 300001, "errmsg": "token is not exist"}))
    plan(worker, engine, step(1))
    await worker.run_once()
    with Session(engine) as session:
        sub = session.get(Subscription, "d1")
        assert sub is not None and sub.state == BROKEN and "300001" in sub.broken_reason
    await worker.run_once()
    [told] = receiver.accepted
    assert told.json()["items"][0]["rule"] == "subscription_broken" and "d1" in told.json()["title"]
    assert [d.state for d in deliveries(engine) if d.subscription_id == "d1"] == [PENDING]


async def test_wecom_markdown_rate_limit_and_removed_robot(
    engine: Engine, clock: ManualClock, worker: DeliveryWorker, receiver: Receiver
) -> None:
    subscribe(engine, "w1", "wecom", f"{receiver.url}/wecom/ok?key=k1")
    receiver.on("/wecom/ok", lambda n: (200, {"errcode": 45009, "errmsg": "api freq out of limit"}) if n == 1 else None)
    plan(worker, engine, step(1))
    await worker.run_once()
    assert attempts(engine)[0].outcome == "rate_limited" and not receiver.accepted
    await drain(worker, clock)
    [got] = receiver.accepted
    assert "第1项" in got.json()["markdown"]["content"]
    subscribe(engine, "w2", "wecom", f"{receiver.url}/wecom/removed?key=k2", owner_id="u2")
    receiver.on("/wecom/removed", lambda n: (200, {"errcode": 93000, "errmsg": "invalid webhook url"}))
    plan(worker, engine, step(2, units=("u2",)))
    await worker.run_once()
    with Session(engine) as session:
        sub = session.get(Subscription, "w2")
        assert sub is not None and sub.state == BROKEN
