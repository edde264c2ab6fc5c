from __future__ import annotations

from fastapi import FastAPI

from proto.task import TaskUpserted
from services.common.clock import Clock
from services.common.runtime import ServiceRuntime, create_service_app
from services.registry.handlers import register_handlers
from services.registry.models import RegistryNotice, RegistryTask
from services.registry.settings import RegistrySettings, get_settings
from services.registry.views import router


def create_runtime(settings: RegistrySettings | None = None, clock: Clock | None = None) -> ServiceRuntime:
    runtime = ServiceRuntime(settings or get_settings(), tables=[RegistryNotice, RegistryTask], clock=clock)
    runtime.publishers.declare(
        runtime.subjects.task_upserted, TaskUpserted, "A task was registered or changed, with its units resolved."
    )
    register_handlers(runtime)
    return runtime


def create_app(settings: RegistrySettings | None = None, clock: Clock | None = None) -> FastAPI:
    runtime = create_runtime(settings, clock)
    app = create_service_app(runtime, title="Luoshi registry", description="任务台账登记 / the task registry")
    app.include_router(router)
    return app
