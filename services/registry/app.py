from __future__ import annotations

from fastapi import FastAPI
from sqlmodel import SQLModel

from proto.directory import ContactChanged
from proto.task import TaskUpserted
from services.common.clock import Clock
from services.common.runtime import ServiceRuntime, create_service_app
from services.registry.directory_io import MAX_DIRECTORY_BYTES
from services.registry.directory_models import GroupMember, Post, PostHolder, Unit, UnitAlias
from services.registry.handlers import register_handlers
from services.registry.models import (
    Assignment,
    AuditEntry,
    HeldVersion,
    NoticeVersion,
    RegistryNotice,
    RegistryTask,
    TaskLeader,
    TaskLink,
)
from services.registry.settings import RegistrySettings, get_settings
from services.registry.views import router as task_router
from services.registry.views_contacts import router as contact_router
from services.registry.views_directory import router as directory_router
from services.registry.views_links import router as link_router
from services.registry.views_versions import router as version_router

TABLES: list[type[SQLModel]] = [
    RegistryNotice,
    NoticeVersion,
    HeldVersion,
    RegistryTask,
    Assignment,
    TaskLeader,
    AuditEntry,
    TaskLink,
    Unit,
    UnitAlias,
    GroupMember,
    Post,
    PostHolder,
]


def create_runtime(settings: RegistrySettings | None = None, clock: Clock | None = None) -> ServiceRuntime:
    runtime = ServiceRuntime(settings or get_settings(), tables=TABLES, clock=clock)
    runtime.publishers.declare(
        runtime.subjects.task_upserted, TaskUpserted, "A task was registered or changed, with its units resolved."
    )
    runtime.publishers.declare(
        runtime.subjects.root + ".directory.contact.changed.{kind}.{owner_id}",
        ContactChanged,
        "A unit's or post's contact fields (robot, e-mail); the stream keeps the last per subject.",
    )
    register_handlers(runtime)
    return runtime


def create_app(settings: RegistrySettings | None = None, clock: Clock | None = None) -> FastAPI:
    runtime = create_runtime(settings, clock)
    return create_service_app(
        runtime,
        title="Luoshi registry",
        description="任务台账登记 / the task registry",
        routers=[task_router, directory_router, contact_router, link_router, version_router],
        body_limits={"/directory/import": MAX_DIRECTORY_BYTES},
    )
