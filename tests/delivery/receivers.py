"""Real receivers on loopback for the delivery tests: an HTTP server that checks what a webhook,
DingTalk or WeCom robot would check, and answers what they would answer."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

# Answers a test scripts per path: called with the request's number on that path (1, 2…).
Script = Callable[[int], tuple[int, dict[str, Any]] | None]


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    query: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    secret: str = "hook-secret"
    robot_secret: str = "SEC-robot"
    keyword: str = "督办"
    accepted: list[Received] = field(default_factory=list)
    refused: list[tuple[Received, str]] = field(default_factory=list)
    scripts: dict[str, Script] = field(default_factory=dict)
    seen_keys: set[str] = field(default_factory=set)
    duplicates: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    port: int = 0
    _server: uvicorn.Server | None = None
    _task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def on(self, path: str, script: Script) -> None:
        self.scripts[path] = script

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/hook/{name}", self.webhook, methods=["POST"]),
                Route("/dingtalk/{name}", self.dingtalk, methods=["POST"]),
                Route("/wecom/{name}", self.wecom, methods=["POST"]),
            ]
        )

    async def _read(self, request: Request) -> Received:
        return Received(request.url.path, dict(request.headers), dict(request.query_params), await request.body())

    def _scripted(self, got: Received) -> Response | None:
        self.counts[got.path] = n = self.counts.get(got.path, 0) + 1
        script = self.scripts.get(got.path)
        answer = script(n) if script else None
        if answer is None:
            return None
        status, body = answer
        self.refused.append((got, json.dumps(body)))
        return JSONResponse(body, status_code=status)

    def _refuse(self, got: Received, why: str, status: int, body: dict[str, Any]) -> Response:
        self.refused.append((got, why))
        return JSONResponse(body, status_code=status)

    async def webhook(self, request: Request) -> Response:
        got = await self._read(request)
        stamp = got.headers.get("x-luoshi-timestamp", "")
        mac = hmac.new(self.secret.encode(), stamp.encode() + b"." + got.body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(got.headers.get("x-luoshi-signature", ""), f"sha256={mac}"):
            return self._refuse(got, "bad signature", 401, {"error": "bad signature"})
        if (scripted := self._scripted(got)) is not None:
            return scripted
        key = got.headers.get("idempotency-key", "")
        if not key:
            return self._refuse(got, "no key", 400, {"error": "no idempotency key"})
        if key in self.seen_keys:
            self.duplicates += 1
        else:
            self.seen_keys.add(key)
            self.accepted.append(got)
        return JSONResponse({"ok": True})

    async def dingtalk(self, request: Request) -> Response:
        got = await self._read(request)
        stamp, sign = got.query.get("timestamp", ""), got.query.get("sign", "")
        mac = hmac.new(self.robot_secret.encode(), f"{stamp}\n{self.robot_secret}".encode(), hashlib.sha256).digest()
        # The query arrives unquoted once, as DingTalk's server reads it: the base64 itself.
        if not stamp or not hmac.compare_digest(base64.b64encode(mac).decode(), sign):
            return self._refuse(got, "sign", 200, {"errcode": 310000, "errmsg": "sign not match"})
        body = got.json()
        md = body.get("markdown") or {}
        if body.get("msgtype") != "markdown" or not md.get("title") or not md.get("text"):
            return self._refuse(got, "format", 200, {"errcode": 40035, "errmsg": "缺少参数 markdown"})
        if self.keyword not in md["text"] and self.keyword not in md["title"]:
            return self._refuse(got, "keyword", 200, {"errcode": 310000, "errmsg": "keywords not in content"})
        if (scripted := self._scripted(got)) is not None:
            return scripted
        self.accepted.append(got)
        return JSONResponse({"errcode": 0, "errmsg": "ok"})

    async def wecom(self, request: Request) -> Response:
        got = await self._read(request)
        body = got.json()
        content = (body.get("markdown") or {}).get("content", "")
        if body.get("msgtype") != "markdown" or not content or len(content.encode()) > 4096:
            return self._refuse(got, "format", 200, {"errcode": 40058, "errmsg": "markdown.content exceed"})
        if (scripted := self._scripted(got)) is not None:
            return scripted
        self.accepted.append(got)
        return JSONResponse({"errcode": 0, "errmsg": "ok"})

    async def start(self) -> None:
        if not self.port:
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                self.port = probe.getsockname()[1]
        config = uvicorn.Config(self.app(), host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
            self._server = self._task = None
