"""The console's live feed: server-sent events of the steps the signed-in caller may see.

Each event's id is the feed row's sequence number, so a client that reconnects with
`Last-Event-ID` gets every step it missed, in order, and nothing twice.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from services.common.errors import ApiError
from services.common.identity import Principal
from services.common.params import MAX_ROW_ID
from services.notify.delivery_models import FeedItem

PAGE = 200


def audience_key(principal: Principal) -> str | None:
    """What a caller's feed rows must name; None for the office and supervisors without a post (all)."""
    if principal.role == "unit":
        return f",unit:{principal.unit_id},"
    if principal.role == "supervisor" and principal.post_id:
        return f",post:{principal.post_id},"
    return None


def read_after(engine: Engine, principal: Principal, after: int) -> list[FeedItem]:
    stmt = select(FeedItem).where(col(FeedItem.seq) > after)
    key = audience_key(principal)
    if key is not None:
        stmt = stmt.where(col(FeedItem.audience).contains(key, autoescape=True))
    with Session(engine) as session:
        return list(session.exec(stmt.order_by(col(FeedItem.seq)).limit(PAGE)).all())


def event(row: FeedItem) -> dict[str, Any]:
    data = {
        "step_id": row.step_id,
        "level": row.level,
        "title": row.title,
        "message": row.message,
        "link": row.link,
        "task_id": row.task_id,
        "raised_at": row.raised_at.isoformat(),
    }
    return {"id": str(row.seq), "event": "step", "data": json.dumps(data, ensure_ascii=False)}


async def events(
    *,
    engine: Engine,
    principal: Principal,
    after: int,
    run_db: Callable[..., Awaitable[Any]],
    poll_s: float,
    disconnected: Callable[[], Awaitable[bool]],
    follow: bool = True,
) -> AsyncIterator[dict[str, Any]]:
    """Every visible step after `after`; then, following, each new one as it is raised."""
    while not await disconnected():
        rows = await run_db(read_after, engine, principal, after)
        for row in rows:
            after = row.seq or after
            yield event(row)
        if len(rows) < PAGE:
            if not follow:
                return
            await asyncio.sleep(poll_s)


def last_event_id(header: str | None, query: int | None) -> int:
    """Where to resume: the Last-Event-ID header a reconnecting browser sends, else `?after=`, else 0."""
    if header is None or header.strip() == "":
        return query or 0
    if not header.strip().isdigit() or int(header.strip()) > MAX_ROW_ID:
        raise ApiError(
            422, "invalid_last_event_id", "Last-Event-ID 须为事件序号", "Last-Event-ID must be an event number"
        )
    return int(header.strip())
