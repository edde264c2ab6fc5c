"""A cap on request bodies, enforced while they are read, chunked bodies included.

A declared `Content-Length` over the cap is answered 413 before the app runs. Otherwise the
bytes are counted as the app receives them; past the cap the app is told the client left (so
Starlette stops reading with `ClientDisconnect`), whatever it would still send is dropped, and
the client gets the 413. Nothing past the cap is ever read from the socket.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.common.errors import error_body


def too_large_body(limit: int) -> bytes:
    mb = limit / (1024 * 1024)
    body = error_body(
        "too_large",
        f"请求内容超过 {mb:.1f} MB 上限",
        f"the request body is larger than the {limit} byte limit",
    )
    return json.dumps(body, ensure_ascii=False).encode()


class BodyLimit:
    """ASGI middleware: `default` bytes for every route, `routes` maps a path (inside the app) to its own cap."""

    def __init__(self, app: ASGIApp, *, default: int, routes: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.default = default
        self.routes = dict(routes or {})

    def limit_for(self, scope: Scope) -> int:
        path: str = scope.get("path", "")
        root: str = scope.get("root_path", "")
        # Mounted under the gateway the path still carries the mount prefix.
        if root and path.startswith(root):
            path = path[len(root) :] or "/"
        return self.routes.get(path, self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _send_413(send, limit)
            return
        guard = _Guard(receive, send, limit)
        try:
            await self.app(scope, guard.receive, guard.send)
        except Exception:
            if not guard.tripped:
                raise
            # The app failed on the body it was denied (ClientDisconnect and the like): expected.
        if guard.tripped and not guard.started:
            await _send_413(send, limit)


class _Guard:
    def __init__(self, receive: Receive, send: Send, limit: int) -> None:
        self._receive, self._send, self.limit = receive, send, limit
        self.seen = 0
        self.tripped = False
        self.started = False

    async def receive(self) -> Message:
        if self.tripped:
            return {"type": "http.disconnect"}
        message = await self._receive()
        if message["type"] == "http.request":
            self.seen += len(message.get("body", b""))
            if self.seen > self.limit:
                self.tripped = True
                return {"type": "http.disconnect"}
        return message

    async def send(self, message: Message) -> None:
        if self.tripped:
            return
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _send_413(send: Send, limit: int) -> None:
    body = too_large_body(limit)
    headers: list[Any] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
