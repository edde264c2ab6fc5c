from __future__ import annotations

from fastapi import FastAPI

from proto.clock import ClockTicked
from proto.escalation import EscalationRaised
from services.common.clock import Clock
from services.common.runtime import ServiceRuntime, create_service_app
from services.notify.delivery import register_delivery
from services.notify.handlers import register_handlers
from services.notify.models import ClockState, Escalation
from services.notify.settings import NotifySettings, get_settings
from services.notify.views import router
from services.notify.views_delivery import router as delivery_router


def create_runtime(settings: NotifySettings | None = None, clock: Clock | None = None) -> ServiceRuntime:
    runtime = ServiceRuntime(settings or get_settings(), tables=[Escalation, ClockState], clock=clock)
    runtime.publishers.declare(
        runtime.subjects.root + ".escalation.raised.{level}.{unit}",
        EscalationRaised,
        "An escalation for one unit at one ladder level; subscribe to escalation.raised.> or one unit.",
    )
    runtime.publishers.declare(runtime.subjects.clock_tick, ClockTicked, "A new day on the Luoshi clock.")
    register_handlers(runtime)
    # Delivery (#15): its tables, worker and consumers; the ladder hands each step to the planner
    # it returns (`services.notify.delivery.planner_of(runtime)` finds it again).
    register_delivery(runtime)
    return runtime


def create_app(settings: NotifySettings | None = None, clock: Clock | None = None) -> FastAPI:
    runtime = create_runtime(settings, clock)
    return create_service_app(
        runtime, title="Luoshi notify", description="催办督办 / escalations", routers=[router, delivery_router]
    )
