"""One origin for the local all-in-one run: every service under /api/<name> on one port."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.responses import HTMLResponse

from services.common.access import PUBLIC, seal_router
from services.common.clock import Clock
from services.common.natscreds import NatsCredentials
from services.ingest.app import create_app as create_ingest
from services.ingest.settings import IngestSettings
from services.notify.app import create_app as create_notify
from services.notify.settings import NotifySettings
from services.progress.app import create_app as create_progress
from services.progress.settings import ProgressSettings
from services.registry.app import create_app as create_registry
from services.registry.settings import RegistrySettings

SERVICES = ("ingest", "registry", "progress", "notify")

_CONSOLE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>落实 Luoshi</title></head>
<body style="font-family: sans-serif; max-width: 48rem; margin: 2rem auto">
<h1>落实 · 任务督办系统</h1>
<p>控制台将在此处提供。当前可用的接口：</p>
<ul>
<li><a href="/api/registry/tasks">任务清单 /api/registry/tasks</a></li>
<li><a href="/api/ingest/notices">已上传通知 /api/ingest/notices</a></li>
<li><a href="/api/notify/escalations">督办事项 /api/notify/escalations</a></li>
<li>接口文档：<a href="/api/ingest/docs">ingest</a> · <a href="/api/registry/docs">registry</a> ·
<a href="/api/progress/docs">progress</a> · <a href="/api/notify/docs">notify</a></li>
</ul></body></html>"""


def create_gateway(
    *,
    nats_url: str,
    data_dir: Path,
    subject_root: str = "luoshi",
    clock: Clock | None = None,
    database_urls: dict[str, str] | None = None,
    nats_credentials: Mapping[str, NatsCredentials] | None = None,
) -> FastAPI:
    """`database_urls` maps a service name to its database; the default is a SQLite file each in data_dir.

    `nats_credentials` maps a service name to its NATS user; a service not in it takes its
    credentials from its environment (`LUOSHI_<SERVICE>_NATS_USER`, `_NATS_PASSWORD`), if any.
    """
    urls = database_urls or {}
    creds = nats_credentials or {}

    def common(name: str) -> dict[str, Any]:
        settings: dict[str, Any] = {
            "nats_url": nats_url,
            "data_dir": data_dir,
            "subject_root": subject_root,
            "database_url": urls.get(name, ""),
        }
        if name in creds:
            settings |= {"nats_user": creds[name].user, "nats_password": creds[name].password}
        return settings

    apps = {
        "ingest": create_ingest(IngestSettings(**common("ingest")), clock),
        "registry": create_registry(RegistrySettings(**common("registry")), clock),
        "progress": create_progress(ProgressSettings(**common("progress")), clock),
        "notify": create_notify(NotifySettings(**common("notify")), clock),
    }

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Starlette does not run the lifespans of mounted apps; the gateway runs them in order.
        async with AsyncExitStack() as stack:
            for sub in apps.values():
                await stack.enter_async_context(sub.router.lifespan_context(sub))
            yield

    gateway = FastAPI(title="Luoshi", lifespan=lifespan, docs_url=None, redoc_url=None)
    gateway.state.apps = apps

    @gateway.get("/", response_class=HTMLResponse, include_in_schema=False, dependencies=[Depends(PUBLIC)])
    def console() -> str:
        return _CONSOLE

    @gateway.get("/healthz", include_in_schema=False, dependencies=[Depends(PUBLIC)])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    for name, sub in apps.items():
        gateway.mount(f"/api/{name}", sub)
    seal_router(gateway.router)
    return gateway
