"""What the request observer (`services/common/observe.py`) adds to a request, in-process.

A bare ASGI app that answers at once, called directly with and without `ObserveRequests`; the
difference is the middleware's CPU per request (process time, so other processes' load does not
count). A no-op `BaseHTTPMiddleware` is measured beside it, the alternative the module avoids.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from rich.console import Console
from rich.table import Table
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.common.metrics import ServiceMetrics
from services.common.observe import ObserveRequests

_ROUTE = Route("/tasks/{task_id}/progress", lambda _request: None, methods=["POST"])
_HEADERS = [
    (b"host", b"luoshi"),
    (b"authorization", b"Bearer lsp_x_y"),
    (b"content-type", b"application/json"),
    (b"idempotency-key", b"k-1"),
    (b"content-length", b"40"),
]


async def _bare(scope: Scope, _receive: Receive, send: Send) -> None:
    scope["route"] = _ROUTE
    await send({"type": "http.response.start", "status": 201, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b"{}"})


async def _receive() -> Message:
    return {"type": "http.request", "body": b""}


async def _send(_message: Message) -> None:
    return None


async def _cpu_us(app: ASGIApp, n: int, headers: list[tuple[bytes, bytes]]) -> float:
    started = time.process_time()
    for _ in range(n):
        scope: dict[str, Any] = {"type": "http", "method": "POST", "path": "/tasks/t1/progress", "headers": headers}
        await app(scope, _receive, _send)
    return (time.process_time() - started) / n * 1e6


async def _measure(quick: bool) -> list[tuple[str, float]]:
    n, rounds = (20_000, 3) if quick else (200_000, 7)
    observed = ObserveRequests(_bare, ServiceMetrics())

    async def passthrough(request: Any, call_next: Any) -> Any:
        return await call_next(request)

    base = BaseHTTPMiddleware(_bare, dispatch=passthrough)
    with_id = [*_HEADERS, (b"x-request-id", b"lb-42.a")]
    cases = [("bare ASGI app", _bare, _HEADERS), ("ObserveRequests", observed, _HEADERS)]
    cases += [("ObserveRequests, X-Request-Id sent", observed, with_id), ("no-op BaseHTTPMiddleware", base, _HEADERS)]
    results = []
    for name, app, headers in cases:
        count = n // 10 if app is base else n
        await _cpu_us(app, count // 10, headers)  # warm up: metric children, caches
        results.append((name, min([await _cpu_us(app, count, headers) for _ in range(rounds)])))
    return results


def main(quick: bool = False) -> None:
    console = Console()
    results = asyncio.run(_measure(quick))
    bare = results[0][1]
    table = Table(title="observe: CPU per request in-process (best of rounds)")
    table.add_column("app")
    table.add_column("µs / request", justify="right")
    table.add_column("added", justify="right")
    for name, us in results:
        table.add_row(name, f"{us:.2f}", "" if us == bare else f"+{us - bare:.2f}")
    console.print(table)
