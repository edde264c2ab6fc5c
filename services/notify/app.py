from __future__ import annotations

from fastapi import FastAPI

from proto.clock import ClockTicked
from proto.escalation import EscalationRaised
from services.common.clock import Clock
from services.common.runtime import ServiceRuntime, create_service_app
from services.common.workdaysfile import load_calendar
from services.notify.delivery import register_delivery
from services.notify.delivery_settings import DeliverySettings
from services.notify.handlers import Chase, register_handlers
from services.notify.models import TABLES
from services.notify.rules import RuleBook
from services.notify.settings import NotifySettings, get_settings
from services.notify.views import router
from services.notify.views_delivery import router as delivery_router


def create_runtime(settings: NotifySettings | None = None, clock: Clock | None = None) -> ServiceRuntime:
    return build(settings, clock)[0]


def build(settings: NotifySettings | None = None, clock: Clock | None = None) -> tuple[ServiceRuntime, Chase]:
    """The runtime with its subscribers, and the process they share with the API."""
    settings = settings or get_settings()
    runtime = ServiceRuntime(settings, tables=TABLES, clock=clock)
    runtime.publishers.declare(
        runtime.subjects.root + ".escalation.raised.{level}.{unit}",
        EscalationRaised,
        "A step of the chase for one unit at one level (advance, reminder, red, head); "
        "subscribe to escalation.raised.red.<unit> for all red of one unit, or escalation.raised.>.",
    )
    runtime.publishers.declare(
        runtime.subjects.root + ".escalation.leader.{post}.{level}",
        EscalationRaised,
        "The same step once per lead leader's post: escalation.leader.<post>.> is everything of one leader's tasks.",
    )
    runtime.publishers.declare(runtime.subjects.clock_tick, ClockTicked, "A new day on the Luoshi clock.")
    # Delivery (#15): its tables, worker and consumers, and the planner every step is handed to.
    delivery = DeliverySettings()
    planner = register_delivery(runtime, delivery)
    book, calendar = RuleBook.load(settings.rules_file), load_calendar(settings.workdays_file)
    chase = Chase(runtime, book, calendar, planner, console_url=delivery.console_base_url)
    register_handlers(runtime, chase)
    return runtime, chase


def create_app(settings: NotifySettings | None = None, clock: Clock | None = None) -> FastAPI:
    runtime, chase = build(settings, clock)
    app = create_service_app(
        runtime, title="Luoshi notify", description="催办督办 / escalations", routers=[router, delivery_router]
    )
    app.state.chase = chase
    return app
