"""What every request leaves behind: a request id, its metrics, and a logged traceback when it fails.

A pure ASGI middleware rather than Starlette's `BaseHTTPMiddleware`, which runs the app in a task
of its own with a memory stream between them, tens of microseconds a request on the report route.
This one adds a few microseconds (see README "Logs and metrics").
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import time
from typing import Any

import orjson
from prometheus_client import Counter, Histogram
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.common.errors import error_body
from services.common.logs import REQUEST_ID
from services.common.metrics import ServiceMetrics

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = b"x-request-id"
# A proxy's or client's id is kept when it is short and plain, so it can be searched for in the logs
# across hops; anything else (a log-injection attempt, a megabyte) is replaced by our own.
_SANE_ID = re.compile(rb"[A-Za-z0-9._:/+=-]{1,128}")
# Fixed label values, so a scanner's odd methods and paths cannot grow the metric series without end.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "<unmatched>"


# Our ids need only be unique, not unguessable: a random process prefix and a counter cost a fifth
# of an os.urandom call per request.
_PREFIX = os.urandom(4).hex()
_COUNTER = itertools.count(1)


def _new_prefix() -> None:
    global _PREFIX
    _PREFIX = os.urandom(4).hex()


os.register_at_fork(after_in_child=_new_prefix)  # a forked worker must not repeat its parent's ids


def _new_id() -> bytes:
    return f"{_PREFIX}{next(_COUNTER):08x}".encode()


def request_id(scope: Scope) -> bytes:
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER:
            return value if _SANE_ID.fullmatch(value) else _new_id()
    return _new_id()


def internal_error(rid: str) -> bytes:
    """The documented error body of an unexpected failure, naming the request id to quote."""
    return orjson.dumps(
        error_body(
            "internal_error",
            f"服务内部错误，请稍后重试（请求编号 {rid}）",
            f"internal error, please retry later (request {rid})",
            {"request_id": rid},
        )
    )


class ObserveRequests:
    """Request id (`X-Request-Id` in and out, and on every log line), HTTP metrics, and a JSON 500.

    An exception no handler took is logged with its traceback and answered with the bilingual
    error body; once an answer has started it can only be logged, and the connection is dropped.
    """

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self._requests = metrics.http_requests
        self._seconds = metrics.http_seconds
        # labels() takes a lock and builds a key on every call; the children are kept here instead.
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        rid = request_id(scope)
        token = REQUEST_ID.set(rid.decode())
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                # A copy: a route may answer with a ready Response whose header list is reused.
                message = {**message, "headers": [*message.get("headers", ()), (REQUEST_ID_HEADER, rid)]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error answering %s %s", scope.get("method"), scope.get("path"))
            if status:
                raise
            status = 500
            await _answer_500(send, rid)
        finally:
            self._observe(scope, status or 500, time.perf_counter() - started)
            REQUEST_ID.reset(token)

    def _observe(self, scope: Scope, status: int, seconds: float) -> None:
        method = scope.get("method", "")
        route: Any = scope.get("route")
        # A gateway's Mount is in the scope until the service's own router matches: not a route.
        key = (
            method if method in _METHODS else "OTHER",
            route.path if isinstance(route, Route) else UNMATCHED,
            status,
        )
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (
                self._requests.labels(key[0], key[1], str(status)),
                self._seconds.labels(key[0], key[1]),
            )
        children[0].inc()
        children[1].observe(seconds)


async def _answer_500(send: Send, rid: bytes) -> None:
    body = internal_error(rid.decode())
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (REQUEST_ID_HEADER, rid),
    ]
    await send({"type": "http.response.start", "status": 500, "headers": headers})
    await send({"type": "http.response.body", "body": body})
