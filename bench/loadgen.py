"""A lean HTTP/1.1 keep-alive client for the load runs.

httpx spends several milliseconds of CPU per request; on a two-core machine the load generator
then takes the core the server needs, and a do-nothing baseline measures the client, not the
server. This client writes pre-built request bytes on kept-alive connections and reads only the
status line, `Content-Length` and the body: tens of microseconds per request. It speaks just
what uvicorn answers (no chunked bodies, no redirects) and is for the benchmarks only.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit


class HttpError(Exception):
    """The connection failed or the answer could not be read."""


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: bytes) -> None:
        self._reader = reader
        self._writer = writer
        self._host = host

    @classmethod
    async def open(cls, url: str) -> Connection:
        parts = urlsplit(url)
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        return cls(reader, writer, parts.netloc.encode())

    async def request(
        self, method: str, path: str, *, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        lines = [f"{method} {path} HTTP/1.1".encode(), b"Host: " + self._host]
        for name, value in (headers or {}).items():
            lines.append(f"{name}: {value}".encode())
        if body is not None:
            lines.append(b"Content-Type: application/json")
            lines.append(b"Content-Length: %d" % len(body))
        self._writer.write(b"\r\n".join(lines) + b"\r\n\r\n" + (body or b""))
        try:
            head = await self._reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError) as exc:
            raise HttpError(str(exc)) from exc
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
                break
        try:
            payload = await self._reader.readexactly(length) if length else b""
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            raise HttpError(str(exc)) from exc
        return status, payload

    def close(self) -> None:
        self._writer.close()


class Pool:
    """Connections kept alive and lent one request at a time; a new one opens when none is idle."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._idle: list[Connection] = []
        self._all: list[Connection] = []

    async def request(
        self, method: str, path: str, *, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        conn = self._idle.pop() if self._idle else None
        if conn is None:
            try:
                conn = await Connection.open(self._url)
            except OSError as exc:
                raise HttpError(str(exc)) from exc
            self._all.append(conn)
        try:
            answer = await conn.request(method, path, body=body, headers=headers)
        except BaseException:
            conn.close()
            self._all.remove(conn)
            raise
        self._idle.append(conn)
        return answer

    @property
    def size(self) -> int:
        return len(self._all)

    def close(self) -> None:
        for conn in self._all:
            conn.close()
        self._all.clear()
        self._idle.clear()
