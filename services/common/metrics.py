"""Prometheus metrics of one service, on its own registry.

One registry per app, not prometheus-client's global one: `luoshi up` runs the four services in
one process, and each must count only its own requests and events at its own `/metrics`.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from services.common.access import Access

# Seconds; a report is answered in a few milliseconds, an upload's parse in up to PARSE_TIMEOUT_S.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

# Prometheus sends the office token (`authorization` in its scrape config), or nothing when the
# operator turns PUBLIC_METRICS on for a scraper on a private network.
METRICS_ACCESS = Access("office", public_setting="public_metrics")


class ServiceMetrics:
    """The metric families every service has; a service adds its own on `registry`."""

    def __init__(self) -> None:
        self.registry = r = CollectorRegistry(auto_describe=True)
        self.http_requests = Counter(
            "luoshi_http_requests",
            "HTTP requests answered, by route template and status.",
            ["method", "route", "status"],
            registry=r,
        )
        self.http_seconds = Histogram(
            "luoshi_http_request_duration_seconds",
            "Time from a request's arrival to the end of its answer.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.events_consumed = Counter(
            "luoshi_events_consumed",
            "Events handed to a consumer's handler, by outcome (handled, failed: redelivered).",
            ["subject", "consumer", "outcome"],
            registry=r,
        )
        self.events_published = Counter(
            "luoshi_events_published",
            "Events JetStream acknowledged, by subject (a `{name}` token for any value).",
            ["subject"],
            registry=r,
        )
        self.publish_failures = Counter(
            "luoshi_events_publish_failures",
            "Publishes that failed and will be retried by the outbox relay.",
            ["subject"],
            registry=r,
        )
        self.events_dead_lettered = Counter(
            "luoshi_events_dead_lettered",
            "Events a consumer gave up on and sent to the dead letters.",
            ["subject"],
            registry=r,
        )
        self.outbox_backlog = Gauge(
            "luoshi_outbox_backlog_events", "Committed events the outbox relay has not yet sent (sampled).", registry=r
        )
        self.outbox_oldest_age = Gauge(
            "luoshi_outbox_oldest_pending_age_seconds",
            "Age of the oldest unsent outbox event, 0 when none (sampled).",
            registry=r,
        )
        self.consumer_pending = Gauge(
            "luoshi_consumer_pending_events",
            "Events in the stream not yet delivered to the consumer (JetStream num_pending, sampled).",
            ["consumer"],
            registry=r,
        )
        self.consumer_ack_pending = Gauge(
            "luoshi_consumer_ack_pending_events",
            "Events delivered to the consumer and not yet acknowledged (sampled).",
            ["consumer"],
            registry=r,
        )

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def subject_label(patterns: Callable[[], list[str]]) -> Callable[[str], str]:
    """The declared subject a published subject belongs to, so a unit's id never becomes a label value."""

    def label(subject: str) -> str:
        for pattern in patterns():
            if pattern == subject or ("{" in pattern and subject.startswith(pattern.split("{", 1)[0])):
                return pattern
        return "other"

    return label


def metrics_router() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get(
        "/metrics",
        summary="Prometheus metrics of this service",
        response_class=Response,
        responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text format"}},
        dependencies=[Depends(METRICS_ACCESS)],
    )
    async def metrics(request: Request) -> Response:
        return Response(request.app.state.runtime.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    return router
