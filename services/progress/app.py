from __future__ import annotations

from fastapi import FastAPI

from proto.bulletin import BulletinPublished
from proto.progress import ProgressReported, ReceiptSigned, StatusChanged
from proto.token import TokenChanged
from services.common.clock import Clock
from services.common.runtime import ServiceRuntime, create_service_app
from services.progress.bulletin_views import router as bulletin_router
from services.progress.gate import WriteGate
from services.progress.handlers import register_handlers
from services.progress.models import TABLES
from services.progress.settings import ProgressSettings, get_settings
from services.progress.status import Rules
from services.progress.views import router
from services.progress.writer import ReportWriter, batch_size_histogram


def create_runtime(
    settings: ProgressSettings | None = None,
    clock: Clock | None = None,
    *,
    rules: Rules | None = None,
    gate: WriteGate | None = None,
) -> ServiceRuntime:
    settings = settings or get_settings()
    runtime = ServiceRuntime(settings, tables=TABLES, clock=clock)
    runtime.publishers.declare(runtime.subjects.progress_reported, ProgressReported, "A unit's report was recorded.")
    runtime.publishers.declare(runtime.subjects.status_changed, StatusChanged, "A task's flag changed.")
    runtime.publishers.declare(runtime.subjects.progress_signed, ReceiptSigned, "A host unit signed for a task.")
    runtime.publishers.declare(
        runtime.subjects.bulletin_published, BulletinPublished, "The office published a bulletin (通报)."
    )
    runtime.publishers.declare(
        runtime.subjects.root + ".token.changed.{token_id}",
        TokenChanged,
        "An API token was issued or revoked; every service keeps its own copy.",
    )
    gate = gate or WriteGate(settings.resolved_database_url())
    runtime.relay.write_gate = gate
    register_handlers(runtime, rules=rules or Rules.from_settings(settings, runtime.clock.zone), gate=gate)
    return runtime


def create_app(settings: ProgressSettings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or get_settings()
    # One zone for the service: an injected clock's (tests, demos), else the settings'.
    rules = Rules.from_settings(settings, clock.zone if clock else None)
    gate = WriteGate(settings.resolved_database_url())
    runtime = create_runtime(settings, clock, rules=rules, gate=gate)
    app = create_service_app(
        runtime,
        title="Luoshi progress",
        description="进度填报与状态 / progress and status",
        routers=[router, bulletin_router],
    )
    writer = ReportWriter(
        runtime,
        rules=rules,
        gate=gate,
        wait_s=settings.group_commit_wait_ms / 1000,
        batch_sizes=batch_size_histogram(runtime.metrics.registry),
    )
    runtime.add_background(writer.run)
    app.state.rules = rules
    app.state.write_gate = gate
    app.state.report_writer = writer
    return app
