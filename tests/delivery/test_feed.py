"""The live feed over a real connection: filtered by who is signed in, resumed with Last-Event-ID."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlmodel import Session, select

from services.common.clock import ManualClock
from services.common.natsserver import NatsServer
from services.notify.delivery import planner_of
from services.notify.outgoing import OutgoingStep
from tests.delivery.service import Notify, start_notify, stop_notify
from tests.delivery.steps import MONDAY_10, step

pytestmark = pytest.mark.nats


@pytest.fixture(scope="module")
async def notify(nats_server: NatsServer, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Notify]:
    service = await start_notify(nats_server.url, tmp_path_factory.mktemp("feed"), ManualClock(MONDAY_10))
    yield service
    await stop_notify(service)


def raise_steps(notify: Notify, *steps: OutgoingStep) -> None:
    planner = planner_of(notify.app.state.runtime)
    assert planner is not None
    with Session(notify.engine) as session:
        for s in steps:
            planner(session, s)
        session.commit()


async def read_events(client: httpx.AsyncClient, n: int, headers: dict[str, str]) -> list[tuple[str, dict]]:
    """Read `n` step events off the feed, then hang up."""
    got: list[tuple[str, dict]] = []
    event_id, data = "", ""
    async with client.stream("GET", "/feed", headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        async for line in response.aiter_lines():
            if line.startswith("id:"):
                event_id = line[3:].strip()
            elif line.startswith("data:"):
                data = line[5:].strip()
            elif line == "" and data:
                got.append((event_id, json.loads(data)))
                data = ""
                if len(got) == n:
                    break
    return got


async def test_a_unit_reconnects_with_last_event_id_and_misses_nothing(notify: Notify) -> None:
    unit_token = notify.token("unit", unit="u1")
    raise_steps(notify, *(step(n, units=("u1",) if n % 2 else ("u2",)) for n in range(1, 11)))
    async with notify.client(unit_token) as unit:
        first = await read_events(unit, 3, {})
        assert [e["task_id"] for _id, e in first] == ["task-1", "task-3", "task-5"]
        # Gone for a while; more steps are raised meanwhile.
        raise_steps(notify, *(step(n, units=("u1",)) for n in range(11, 14)))
        rest = await read_events(unit, 5, {"Last-Event-ID": first[-1][0]})
    assert [e["task_id"] for _id, e in rest] == ["task-7", "task-9", "task-11", "task-12", "task-13"]
    ids = [int(i) for i, _e in first + rest]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


async def test_a_leader_sees_the_steps_of_their_post_and_the_office_sees_all(notify: Notify) -> None:
    raise_steps(notify, step(100, level="red", units=("u9",), posts=("p-quzhang",), office=True))
    async with notify.client(notify.token("supervisor", post="p-quzhang")) as leader:
        [(_id, seen)] = await read_events(leader, 1, {})
        assert seen["task_id"] == "task-100" and seen["level"] == "red"
    async with notify.client(notify.token("office")) as office:
        everything = await read_events(office, 14, {})
        assert {e["task_id"] for _i, e in everything} == {f"task-{n}" for n in [*range(1, 14), 100]}


async def test_a_malformed_last_event_id_is_422(notify: Notify) -> None:
    async with notify.client(notify.token("office")) as office:
        response = await office.get("/feed", headers={"Last-Event-ID": "yesterday"})
        assert response.status_code == 422 and response.json()["error"]["message_zh"]
        response = await office.get("/feed", headers={"Last-Event-ID": "9" * 40})
        assert response.status_code == 422
        for after in (-1, 2**31, 2**62):
            response = await office.get("/feed", params={"after": after})
            assert response.status_code == 422


async def test_a_published_bulletin_reaches_every_subscriber_once(notify: Notify, nats_server: NatsServer) -> None:
    import nats

    from proto.bulletin import BulletinPublished
    from services.notify.delivery_models import Delivery, Subscription
    from tests.helpers import eventually

    with Session(notify.engine) as session:
        for sid, kind, owner in (("b1", "unit", "u1"), ("b2", "post", "p-quzhang"), ("b3", "office", "office")):
            session.add(
                Subscription(
                    subscription_id=sid,
                    name=sid,
                    channel="webhook",
                    target="http://127.0.0.1:9/b",
                    owner_kind=kind,
                    owner_id=owner,
                )
            )
        session.commit()
    runtime = notify.app.state.runtime
    event = BulletinPublished(
        source="notify",
        bulletin_id="2026-03",
        title="2026年第3期督查通报",
        period="2026年3月",
        counts={"red": 4, "yellow": 9},
    )
    connection = await nats.connect(nats_server.url)
    try:
        for n in range(2):  # the same event twice (past the stream's duplicate check): planned once
            await connection.jetstream().publish(
                runtime.subjects.bulletin_published, event.model_dump_json().encode(), headers={"Nats-Msg-Id": f"x{n}"}
            )
    finally:
        await connection.close()

    async def planned() -> list[Delivery] | None:
        with Session(notify.engine) as session:
            rows = list(session.exec(select(Delivery).where(Delivery.rule == "bulletin")).all())
        return rows if len(rows) == 3 else None

    rows = await eventually(planned, what="the bulletin's deliveries")
    assert {r.subscription_id for r in rows} == {"b1", "b2", "b3"}
    assert all("红灯 4 项" in r.message and r.link.endswith("/bulletins/2026-03") for r in rows)
