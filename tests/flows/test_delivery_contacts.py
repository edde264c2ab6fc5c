"""Contacts cross from the registry's directory to notify over NATS and become default subscriptions."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from services.notify.delivery_models import Contact, Subscription
from tests.flows.conftest import System
from tests.helpers import eventually

pytestmark = pytest.mark.nats


def _defaults(system: System, owner_id: str) -> list[Subscription]:
    engine = system.app.state.apps["notify"].state.runtime.engine
    with Session(engine) as session:
        stmt = select(Subscription).where(Subscription.owner_id == owner_id, Subscription.source == "default")
        return list(session.exec(stmt).all())


async def test_a_units_robot_and_address_become_its_default_subscriptions(system: System) -> None:
    made = await system.client.post("/api/registry/units", json={"name": "区住建局", "kind": "bureau"})
    unit_id = made.json()["unit_id"]
    robot = {"robot_url": "http://127.0.0.1:9/robot/send?access_token=t1", "robot_secret": "SECxyz"}
    put = await system.client.put(f"/api/registry/units/{unit_id}/contact", json={**robot, "email": "zj@example.org"})
    assert put.status_code == 200, put.text
    assert put.json()["has_robot_secret"] is True and "SECxyz" not in put.text

    async def both() -> list[Subscription] | None:
        found = _defaults(system, unit_id)
        return found if len(found) == 2 else None

    subs = {s.channel: s for s in await eventually(both, what="default subscriptions")}
    assert subs["dingtalk"].target == robot["robot_url"] and subs["dingtalk"].secret == "SECxyz"
    assert subs["email"].target == "zj@example.org"
    listed = await system.client.get("/api/notify/subscriptions")
    assert unit_id in listed.text and "SECxyz" not in listed.text

    # The address cleared: its default e-mail subscription goes; the robot's stays.
    await system.client.put(f"/api/registry/units/{unit_id}/contact", json={"email": ""})

    async def one() -> list[Subscription] | None:
        found = _defaults(system, unit_id)
        return found if [s.channel for s in found] == ["dingtalk"] else None

    await eventually(one, what="e-mail default dropped")
    engine = system.app.state.apps["notify"].state.runtime.engine
    with Session(engine) as session:
        assert session.get(Contact, ("unit", unit_id)) is not None


@pytest.mark.parametrize(
    "body",
    [
        {"robot_url": "ftp://x.example.org/robot"},
        {"robot_url": "not a url"},
        {"robot_channel": "feishu"},
        {"email": "nobody"},
        {"robot_secret": "a\x00b"},
        {"surprise": True},
    ],
)
async def test_bad_contacts_are_422_and_nothing_changes(system: System, body: dict[str, object]) -> None:
    made = await system.client.post("/api/registry/units", json={"name": "区水务局", "kind": "bureau"})
    unit_id = made.json()["unit_id"]
    before = (await system.client.get(f"/api/registry/units/{unit_id}/contact")).json()
    response = await system.client.put(f"/api/registry/units/{unit_id}/contact", json=body)
    assert response.status_code == 422 and response.json()["error"]["message_zh"]
    assert (await system.client.get(f"/api/registry/units/{unit_id}/contact")).json() == before


async def test_contacts_of_unknown_units_and_posts_are_404(system: System) -> None:
    for path in ("/api/registry/units/no-such-unit/contact", "/api/registry/posts/no-such-post/contact"):
        response = await system.client.put(path, json={"email": "a@example.org"})
        assert response.status_code == 404 and response.json()["error"]["message_en"]


async def test_directory_import_carries_contacts_of_units_and_posts(system: System) -> None:
    text = """
units:
  - name: 区教体局
    kind: bureau
    contact: {email: jt@example.org}
posts:
  - title: 副区长（分管教育）
    holder: 李四
    contact: {robot_channel: wecom, robot_url: "http://127.0.0.1:9/cgi-bin/webhook/send?key=k9"}
"""
    response = await system.client.post(
        "/api/registry/directory/import", content=text.encode(), headers={"Content-Type": "application/yaml"}
    )
    assert response.status_code == 200, response.text
    posts = (await system.client.get("/api/registry/posts")).json()
    post_id = next(p["post_id"] for p in posts["data"] if p["title"] == "副区长（分管教育）")

    async def post_default() -> list[Subscription] | None:
        return _defaults(system, post_id) or None

    [sub] = await eventually(post_default, what="the post's default robot subscription")
    assert (sub.channel, sub.owner_kind) == ("wecom", "post")
    bad = await system.client.post(
        "/api/registry/directory/import",
        content=b"units:\n  - name: x\n    contact: {email: nobody}\n",
        headers={"Content-Type": "application/yaml"},
    )
    assert bad.status_code == 422 and bad.json()["error"]["message_zh"]


async def test_units_and_posts_of_the_directory_are_known_to_notify_for_filters(system: System) -> None:
    unit_id = (await system.client.post("/api/registry/units", json={"name": "区商务局", "kind": "bureau"})).json()[
        "unit_id"
    ]
    post = await system.client.put("/api/registry/posts", json={"title": "副区长（分管商务）", "holder": "王五"})
    post_id = post.json()["post_id"]
    body = {
        "name": "商务督办",
        "channel": "webhook",
        "target": "http://127.0.0.1:9/hook",
        "filters": {"units": [unit_id], "leaders": [post_id]},
    }

    async def accepted() -> bool:
        response = await system.client.post("/api/notify/subscriptions", json=body)
        assert response.status_code in (201, 422), response.text
        return response.status_code == 201

    await eventually(accepted, what="notify to know the new unit and post")
