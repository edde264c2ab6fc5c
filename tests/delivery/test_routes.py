"""The delivery routes on a running notify: who may do what, bad input refused with nothing written."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlmodel import Session, func, select

from services.common.clock import ManualClock
from services.common.natsserver import NatsServer
from services.notify.delivery import planner_of
from services.notify.delivery_models import DEAD, Contact, Delivery, Subscription
from tests.delivery.service import Notify, start_notify, stop_notify
from tests.delivery.steps import MONDAY_10, step

pytestmark = pytest.mark.nats

HOOK = {"name": "系统对接", "channel": "webhook", "target": "http://127.0.0.1:9/luoshi", "secret": "s3cret"}


@pytest.fixture(scope="module")
async def notify(nats_server: NatsServer, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Notify]:
    service = await start_notify(nats_server.url, tmp_path_factory.mktemp("notify"), ManualClock(MONDAY_10))
    service.directory(
        Contact(owner_kind="unit", owner_id="u1", name="区发改局"),
        Contact(owner_kind="unit", owner_id="u2", name="区财政局"),
        Contact(owner_kind="post", owner_id="p-quzhang", name="区长"),
    )
    yield service
    await stop_notify(service)


def count(notify: Notify) -> int:
    with Session(notify.engine) as session:
        return session.exec(select(func.count()).select_from(Subscription)).one()


def bilingual(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["message_zh"] and error["message_en"]
    return error


async def test_a_unit_subscribes_for_itself_and_the_secret_never_comes_back(notify: Notify) -> None:
    async with notify.client(notify.token("unit", unit="u1")) as unit:
        made = await unit.post("/subscriptions", json=HOOK)
        assert made.status_code == 201, made.text
        body = made.json()
        assert (body["owner_kind"], body["owner_id"], body["has_secret"]) == ("unit", "u1", True)
        assert "secret" not in body and "s3cret" not in made.text
        listed = await unit.get("/subscriptions")
        assert [s["subscription_id"] for s in listed.json()] == [body["subscription_id"]]
        assert "s3cret" not in listed.text
        changed = await unit.patch(f"/subscriptions/{body['subscription_id']}", json={"quiet_hours": "21:30-07:30"})
        assert changed.json()["quiet_hours"] == "21:30-07:30"
    async with notify.client(notify.token("office")) as office:
        audit = await office.get("/audit", params={"target": body["subscription_id"]})
        assert audit.status_code == 200 and "s3cret" not in audit.text


async def test_another_units_subscription_is_403_and_unknown_is_404(notify: Notify) -> None:
    async with notify.client(notify.token("unit", unit="u1")) as owner:
        sid = (await owner.post("/subscriptions", json=HOOK)).json()["subscription_id"]
    async with notify.client(notify.token("unit", unit="u2")) as other:
        before = count(notify)
        bilingual(await other.patch(f"/subscriptions/{sid}", json={"name": "改"}), 403)
        bilingual(await other.delete(f"/subscriptions/{sid}"), 403)
        bilingual(await other.get(f"/subscriptions/{sid}"), 403)
        bilingual(await other.post("/subscriptions", json={**HOOK, "owner_kind": "unit", "owner_id": "u1"}), 403)
        bilingual(await other.patch("/subscriptions/0123456789abcdef", json={"name": "x"}), 404)
        bilingual(await other.delete("/subscriptions/0123456789abcdef"), 404)
        assert count(notify) == before
    async with notify.client(notify.token("office")) as office:
        assert (await office.patch(f"/subscriptions/{sid}", json={"name": "督查室改名"})).status_code == 200
        assert (await office.delete(f"/subscriptions/{sid}")).status_code == 204
        bilingual(await office.get(f"/subscriptions/{sid}"), 404)


@pytest.mark.parametrize(
    "change",
    [
        {"channel": "fax"},
        {"target": "ftp://hooks.example.org/x"},
        {"target": "javascript:alert(1)"},
        {"target": "not a url"},
        {"channel": "email", "target": "http://127.0.0.1:9/x"},
        {"channel": "dingtalk", "target": "duban@example.org"},
        {"quiet_hours": "22-08"},
        {"quiet_hours": "25:00-08:00"},
        {"quiet_hours": "22:00-22:00"},
        {"digest_minutes": -1},
        {"digest_minutes": "30"},
        {"filters": {"units": ["no-such-unit"]}},
        {"filters": {"leaders": ["no-such-post"]}},
        {"filters": {"levels": ["yellow"]}},
        {"filters": {"colour": ["red"]}},
        {"name": ""},
        {"name": "a\x00b"},
        {"owner_kind": "unit", "owner_id": "no-such-unit"},
        {"surprise": 1},
    ],
)
async def test_bad_subscriptions_are_422_and_nothing_is_written(notify: Notify, change: dict[str, Any]) -> None:
    async with notify.client(notify.token("office")) as office:
        before = count(notify)
        error = bilingual(await office.post("/subscriptions", json={**HOOK, **change}), 422)
        assert error["code"] in ("invalid_request", "unknown_in_directory")
        if "surprise" not in change and "owner_kind" not in change:
            sid = (await office.get("/subscriptions")).json()
            if sid:
                patched = await office.patch(f"/subscriptions/{sid[0]['subscription_id']}", json=change)
                bilingual(patched, 422)
        assert count(notify) == before


async def test_deliveries_listed_by_recipient_channel_state_date_and_dead_letters_replayed(notify: Notify) -> None:
    async with notify.client(notify.token("office")) as office:
        sid = (await office.post("/subscriptions", json={**HOOK, "owner_kind": "unit", "owner_id": "u2"})).json()[
            "subscription_id"
        ]
        planner = planner_of(notify.app.state.runtime)
        assert planner is not None
        with Session(notify.engine) as session:
            planner(session, step(501, units=("u2",)))
            session.commit()
        listed = await office.get("/deliveries", params={"recipient": "u2", "channel": "webhook", "date": "2026-03-02"})
        [row] = [d for d in listed.json() if d["subscription_id"] == sid]
        assert (await office.get("/deliveries", params={"date": "2026-03-03", "recipient": "u2"})).json() == []
        with Session(notify.engine) as session:
            dead = session.get(Delivery, row["delivery_id"])
            assert dead is not None
            dead.state = DEAD
            session.add(dead)
            session.commit()
        assert [d["delivery_id"] for d in (await office.get("/deliveries/dead")).json()] == [row["delivery_id"]]
        replayed = await office.post(f"/deliveries/{row['delivery_id']}/replay")
        assert replayed.status_code == 200 and replayed.json()["state"] == "pending"
        bilingual(await office.post(f"/deliveries/{row['delivery_id']}/replay"), 409)
        bilingual(await office.post("/deliveries/0123456789abcdef/replay"), 404)
        for bad in ({"channel": "fax"}, {"state": "lost"}, {"date": "2026-02-30"}, {"limit": 0}):
            bilingual(await office.get("/deliveries", params=bad), 422)
    async with notify.client(notify.token("unit", unit="u1")) as unit:
        assert all(d["recipient"] == "u1" for d in (await unit.get("/deliveries")).json())
        assert (await unit.get("/deliveries", params={"recipient": "u2"})).json() == []
        bilingual(await unit.get("/deliveries/dead"), 403)
        bilingual(await unit.post(f"/deliveries/{row['delivery_id']}/replay"), 403)


async def test_every_delivery_route_refuses_callers_without_a_token(notify: Notify) -> None:
    async with notify.client() as anonymous:
        for method, path in [
            ("GET", "/subscriptions"),
            ("POST", "/subscriptions"),
            ("PATCH", "/subscriptions/abc"),
            ("DELETE", "/subscriptions/abc"),
            ("GET", "/deliveries"),
            ("GET", "/deliveries/dead"),
            ("POST", "/deliveries/abc/replay"),
            ("GET", "/feed"),
        ]:
            bilingual(await anonymous.request(method, path), 401)
