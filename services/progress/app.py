from __future__ import annotations

from fastapi import FastAPI

from proto.progress import ProgressReported, StatusChanged
from services.common.clock import Clock
from services.common.runtime import ServiceRuntime, create_service_app
from services.progress.handlers import register_handlers
from services.progress.models import ProgressReport, ProgressTask
from services.progress.settings import ProgressSettings, get_settings
from services.progress.views import router


def create_runtime(settings: ProgressSettings | None = None, clock: Clock | None = None) -> ServiceRuntime:
    runtime = ServiceRuntime(settings or get_settings(), tables=[ProgressTask, ProgressReport], clock=clock)
    runtime.publishers.declare(runtime.subjects.progress_reported, ProgressReported, "A unit's report was recorded.")
    runtime.publishers.declare(runtime.subjects.status_changed, StatusChanged, "A task's flag changed.")
    register_handlers(runtime)
    return runtime


def create_app(settings: ProgressSettings | None = None, clock: Clock | None = None) -> FastAPI:
    runtime = create_runtime(settings, clock)
    app = create_service_app(runtime, title="Luoshi progress", description="进度填报与状态 / progress and status")
    app.include_router(router)
    return app
