"""Swagger UI and ReDoc load everything from Luoshi itself, under whatever prefix serves them."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from services.gateway import SERVICES, create_gateway
from services.registry.app import create_app as create_registry
from services.registry.settings import RegistrySettings


def _urls(page: str) -> list[str]:
    return re.findall(r"""(?:src|href|url)\s*[=:]\s*['"]([^'"]+)['"]""", page)


async def _check_pages(client: httpx.AsyncClient, prefix: str) -> None:
    for page in ("docs", "redoc"):
        answer = await client.get(f"{prefix}/{page}")  # no token: the pages hold no data
        assert answer.status_code == 200, answer.text
        urls = _urls(answer.text)
        assert f"{prefix}/openapi.json" in urls
        assert urls and all(u.startswith(f"{prefix}/") for u in urls), urls  # no CDN, no other origin
        for url in urls:
            asset = await client.get(url)
            assert asset.status_code == 200, url
            assert len(asset.content) > 1000 or url.endswith("openapi.json"), url


@pytest.fixture
def gateway(tmp_path: Path):  # type: ignore[no-untyped-def]
    return create_gateway(nats_url="nats://127.0.0.1:1", data_dir=tmp_path, subject_root="docs")


async def test_each_service_serves_its_docs_under_its_gateway_prefix(gateway) -> None:  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway), base_url="http://luoshi") as client:
        for name in SERVICES:
            await _check_pages(client, f"/api/{name}")


async def test_behind_the_proxy_the_root_path_names_the_prefix(tmp_path: Path) -> None:
    """As `luoshi serve --root-path /api/registry` runs it: nginx strips the prefix, uvicorn puts it back."""
    app = create_registry(RegistrySettings(nats_url="nats://127.0.0.1:1", data_dir=tmp_path, subject_root="docs"))
    transport = httpx.ASGITransport(app=app, root_path="/api/registry")
    async with httpx.AsyncClient(transport=transport, base_url="http://luoshi") as client:
        await _check_pages(client, "/api/registry")
