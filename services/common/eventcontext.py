"""Names the event a consumer works on in every line logged while FastStream handles it."""

from __future__ import annotations

from typing import Any

import orjson
from faststream import BaseMiddleware

from services.common.logs import bind_event


def _correlation_id(payload: bytes) -> str | None:
    try:
        body = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None  # a poison payload: its line still has the event id
    value = body.get("correlation_id") if isinstance(body, dict) else None
    return value if isinstance(value, str) else None


class EventLogContext(BaseMiddleware):  # type: ignore[type-arg]
    """Binds the event id (the message's Nats-Msg-Id, which the outbox sets) and its correlation id.

    Entered before FastStream logs "Received", in the task FastStream gives each fetched message,
    so the binding covers the handler, FastStream's "Processed" or error line, and nothing else.
    """

    async def on_receive(self) -> None:
        msg: Any = self.msg
        headers = getattr(msg, "headers", None) or {}
        bind_event(headers.get("Nats-Msg-Id"), _correlation_id(getattr(msg, "data", b"")))
