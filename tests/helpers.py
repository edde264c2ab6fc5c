from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import httpx

T = TypeVar("T")


async def eventually(probe: Callable[[], Awaitable[T | None]], timeout: float = 15.0, what: str = "condition") -> T:
    """Poll `probe` until it returns something truthy; events cross NATS asynchronously."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await probe()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.05)


async def wait_ready(url: str, *, timeout: float = 30.0, died: Callable[[], str | None] | None = None) -> None:
    """Poll `url`/readyz until it answers 200; `died` returns why the process is gone, if it is."""
    async with httpx.AsyncClient(timeout=2) as client:

        async def ready() -> bool:
            if died is not None and (reason := died()):
                raise AssertionError(reason)
            try:
                return (await client.get(f"{url}/readyz")).status_code == 200
            except httpx.HTTPError:
                return False

        await eventually(ready, timeout=timeout, what=f"{url}/readyz")
