"""Helpers for progress tests: tokens the way the office gets them."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from sqlmodel import Session

from services.progress.tokens import issue_token


def office_token(gateway: FastAPI) -> str:
    """An office token issued straight into the progress database, as `luoshi token issue --role office` does."""
    progress = gateway.state.apps["progress"]
    runtime = progress.state.runtime
    with progress.state.write_gate, Session(runtime.engine) as session:
        _row, secret, _unit = issue_token(session=session, role="office", now=runtime.clock.now(), label="test")
    return secret


async def unit_token(client: httpx.AsyncClient, office: str, unit: str, prefix: str = "/api/progress") -> str:
    """A unit's token, issued over HTTP with the office's token."""
    answer = await client.post(f"{prefix}/tokens", json={"role": "unit", "unit": unit}, headers=bearer(office))
    assert answer.status_code == 201, answer.text
    return str(answer.json()["token"])


def bearer(token: str, **extra: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **{k.replace("_", "-"): str(v) for k, v in extra.items()}}
