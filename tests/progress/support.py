"""Helpers for progress tests: tokens the way the office and the units get them."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from tests.helpers import bearer, office_token, token_known

__all__ = ["bearer", "office_token", "unit_token"]


async def unit_token(
    client: httpx.AsyncClient, office: str, unit: str, prefix: str = "/api/progress", gateway: FastAPI | None = None
) -> str:
    """A unit's token, issued over HTTP with the office's token; with `gateway`, known to every service."""
    answer = await client.post(f"{prefix}/tokens", json={"role": "unit", "unit": unit}, headers=bearer(office))
    assert answer.status_code == 201, answer.text
    token = str(answer.json()["token"])
    if gateway is not None:
        await token_known(gateway, token)
    return token
