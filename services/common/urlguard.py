"""Refuse control characters anywhere in a request's path or query string, before any route runs.

No path or query parameter of Luoshi means anything with NUL, a control character or a broken
escape in it, and PostgreSQL refuses NUL in text outright; one check here covers every
parameter, present and future, and keeps the busiest route free of per-parameter validators.
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from services.common.errors import error_body
from services.common.params import has_control_characters


def _bad_query(raw: bytes) -> bool:
    if b"%" not in raw:
        # Raw control bytes never get past the HTTP parser; only escapes can carry them.
        return False
    try:
        decoded = unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return True
    return has_control_characters(decoded)


def _bad_path(scope: Scope) -> bool:
    raw = scope.get("raw_path") or b""
    if b"%" in raw:
        try:
            unquote_to_bytes(raw).decode("utf-8")
        except UnicodeDecodeError:
            return True
    return has_control_characters(scope.get("path", ""))


class RefuseControlCharacters:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (_bad_path(scope) or _bad_query(scope.get("query_string", b""))):
            body = error_body(
                "invalid_request",
                "请求地址含有控制字符或无效编码",
                "the request's path or query holds control characters or invalid encoding",
            )
            await JSONResponse(body, status_code=422)(scope, receive, send)
            return
        await self.app(scope, receive, send)
