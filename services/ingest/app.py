from __future__ import annotations

from fastapi import FastAPI

from proto.notice import NoticeParsed
from services.common.clock import Clock
from services.common.runtime import ServiceRuntime, create_service_app
from services.ingest.models import NoticeUpload
from services.ingest.settings import IngestSettings, get_settings
from services.ingest.views import router


def create_runtime(settings: IngestSettings | None = None, clock: Clock | None = None) -> ServiceRuntime:
    runtime = ServiceRuntime(settings or get_settings(), tables=[NoticeUpload], clock=clock)
    runtime.publishers.declare(
        runtime.subjects.notice_parsed, NoticeParsed, "A notice was uploaded and parsed into tasks."
    )
    return runtime


def create_app(settings: IngestSettings | None = None, clock: Clock | None = None) -> FastAPI:
    runtime = create_runtime(settings, clock)
    return create_service_app(
        runtime, title="Luoshi ingest", description="上传并解析通知 / upload and parse notices", routers=[router]
    )
