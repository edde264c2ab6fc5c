from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
from fastapi import FastAPI
from sqlmodel import Session

from services.progress.tokens import issue_token

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


def issue_token_direct(
    gateway: FastAPI, *, role: str = "office", unit: str | None = None, post: str | None = None
) -> str:
    """A token issued straight into the progress database, as `luoshi token issue` does."""
    progress = gateway.state.apps["progress"]
    runtime = progress.state.runtime
    with progress.state.write_gate, Session(runtime.engine) as session:
        _row, secret, _unit = issue_token(
            session=session, subjects=runtime.subjects, role=role, unit=unit, post=post, now=runtime.clock.now()
        )
    runtime.relay.kick()
    return secret


async def token_known(gateway: FastAPI, token: str, *, known: bool = True) -> None:
    """Wait until every service has (or, with known=False, has dropped) the token: they learn it from token.changed."""

    async def probe() -> bool:
        found = [
            app.state.runtime.tokens.lookup(token, app.state.runtime.clock.now()) is not None
            for app in gateway.state.apps.values()
        ]
        return all(f == known for f in found)

    await eventually(probe, what=f"token {'known' if known else 'revoked'} in every service")


async def office_token(gateway: FastAPI) -> str:
    """An office token that every service of `gateway` already accepts."""
    token = issue_token_direct(gateway)
    await token_known(gateway, token)
    return token


def bearer(token: str, **extra: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **{k.replace("_", "-"): str(v) for k, v in extra.items()}}
