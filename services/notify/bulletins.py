"""A published 通报 as a step for delivery: a summary and a link, to everyone who subscribes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlmodel import Session, select

from proto.bulletin import BulletinPublished
from services.common.clock import CHINA
from services.notify.delivery_models import Subscription
from services.notify.outgoing import OutgoingStep, Recipient

FLAG_NAMES = {"red": "红灯", "yellow": "黄灯", "green": "绿灯", "blue": "蓝灯", "done": "已办结"}


def summary(event: BulletinPublished) -> str:
    counts = "，".join(f"{FLAG_NAMES.get(k, k)} {v} 项" for k, v in event.counts.items())
    return f"{event.title}（{event.period}）已印发。" + (f"任务情况：{counts}。" if counts else "")


def subscribers(session: Session) -> list[Recipient]:
    """Every unit, post and the office that has a subscription: a 通报 goes to the whole district."""
    owners = session.exec(select(Subscription.owner_kind, Subscription.owner_id).distinct()).all()
    return [Recipient(kind=kind, id=owner_id, name=owner_id) for kind, owner_id in sorted(owners)]  # type: ignore[arg-type]


def bulletin_step(
    event: BulletinPublished, recipients: Iterable[Recipient], *, base_url: str, now: datetime
) -> OutgoingStep:
    link = f"{base_url.rstrip('/')}/bulletins/{event.bulletin_id}"
    return OutgoingStep(
        step_id=f"bulletin-{event.bulletin_id}",
        escalation_id="",
        task_id="",
        doc_no=event.title,
        task_number=0,
        level="advance",
        rule="bulletin",
        step=1,
        title=f"【督查通报】{event.title}",
        message=summary(event),
        link=link,
        raised_on=now.astimezone(CHINA).date(),
        raised_at=now,
        recipients=tuple(recipients),
    )
