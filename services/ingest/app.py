from __future__ import annotations

import asyncio

from fastapi import FastAPI

from proto.notice import NoticeParsed
from services.common.clock import Clock
from services.common.runtime import ServiceRuntime, create_service_app
from services.ingest.models import NoticeUpload
from services.ingest.sandbox import ParseSandbox
from services.ingest.settings import IngestSettings, get_settings
from services.ingest.views import router

# Room for the multipart framing around the file, which `max_upload_bytes` measures alone.
_MULTIPART_SLACK = 64 * 1024


class IngestRuntime(ServiceRuntime[IngestSettings]):
    """The shared runtime plus the sandbox uploads are parsed in."""

    def __init__(self, settings: IngestSettings, clock: Clock | None = None) -> None:
        super().__init__(settings, tables=[NoticeUpload], clock=clock)
        self.sandbox = ParseSandbox(
            memory_mb=settings.parse_memory_mb, timeout_s=settings.parse_timeout_s, workers=settings.parse_workers
        )
        self.add_background(self._keep_sandbox)

    async def _keep_sandbox(self) -> None:
        await asyncio.to_thread(self.sandbox.start)
        try:
            await asyncio.Event().wait()
        finally:
            self.sandbox.close()


def create_runtime(settings: IngestSettings | None = None, clock: Clock | None = None) -> IngestRuntime:
    runtime = IngestRuntime(settings or get_settings(), clock=clock)
    runtime.publishers.declare(
        runtime.subjects.notice_parsed, NoticeParsed, "A notice was uploaded and parsed into tasks."
    )
    return runtime


def create_app(settings: IngestSettings | None = None, clock: Clock | None = None) -> FastAPI:
    runtime = create_runtime(settings, clock)
    return create_service_app(
        runtime,
        title="Luoshi ingest",
        description="上传并解析通知 / upload and parse notices",
        routers=[router],
        body_limits={"/notices": runtime.settings.max_upload_bytes + _MULTIPART_SLACK},
    )
