"""The body cap stops reading a request past its limit, declared or chunked, with a bilingual 413."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI, Request

from services.common.bodylimit import BodyLimit
from services.common.errors import install_error_handlers

MB = 1024 * 1024


def _app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.add_middleware(BodyLimit, default=MB, routes={"/big": 4 * MB})

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        return {"read": len(await request.body())}

    @app.post("/big")
    async def big(request: Request) -> dict[str, int]:
        return {"read": len(await request.body())}

    return app


class Counting:
    """A chunked body of `total` bytes that remembers how much of it was pulled."""

    def __init__(self, total: int, chunk: int = 64 * 1024) -> None:
        self.total, self.chunk, self.sent = total, chunk, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.sent < self.total:
            self.sent += self.chunk
            yield b"x" * self.chunk


def _assert_413(response: httpx.Response) -> None:
    assert response.status_code == 413, response.text
    error = response.json()["error"]
    assert error["code"] == "too_large"
    assert error["message_zh"] and error["message_en"]


async def _post(path: str, **kwargs: object) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_app()), base_url="http://t") as client:
        return await client.post(path, **kwargs)  # type: ignore[arg-type]


async def test_a_body_within_the_limit_is_read_whole() -> None:
    response = await _post("/echo", content=b"x" * (MB - 1))
    assert response.json() == {"read": MB - 1}


async def test_a_declared_length_over_the_limit_is_refused_before_the_app_runs() -> None:
    _assert_413(await _post("/echo", content=b"x" * (MB + 1)))


async def test_a_chunked_body_is_cut_off_at_the_limit() -> None:
    body = Counting(300 * MB)
    _assert_413(await _post("/echo", content=body))
    assert body.sent <= MB + body.chunk


async def test_a_route_with_its_own_limit() -> None:
    assert (await _post("/big", content=Counting(3 * MB))).json() == {"read": 3 * MB}
    body = Counting(300 * MB)
    _assert_413(await _post("/big", content=body))
    assert body.sent <= 4 * MB + body.chunk
