"""Gauges read from the database and JetStream on a timer, never on a request's path."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from nats.js.client import JetStreamContext

from services.common.metrics import ServiceMetrics
from services.common.outbox import OutboxRelay

log = logging.getLogger(__name__)

INFO_TIMEOUT_S = 2.0


class MetricsSampler:
    """Samples the outbox backlog and each durable consumer's pending counts every `interval_s`.

    The outbox count runs in a worker thread whatever the database: it is a scan of the unsent rows,
    rare enough that the thread hand-off costs nothing worth saving. A failed sample (NATS down) keeps
    the last values and is logged at DEBUG: /readyz and the connection log already say so.
    """

    def __init__(
        self,
        metrics: ServiceMetrics,
        relay: OutboxRelay,
        stream: Callable[[], JetStreamContext],
        consumers: Callable[[], Sequence[tuple[str, str]]],
        interval_s: float,
    ) -> None:
        self._metrics = metrics
        self._relay = relay
        self._stream = stream
        self._consumers = consumers  # (stream name, durable name)
        self._interval = interval_s

    async def run(self) -> None:
        while True:
            await self.sample()
            await asyncio.sleep(self._interval)

    async def sample(self) -> None:
        try:
            count, age = await asyncio.to_thread(self._relay.backlog)
            self._metrics.outbox_backlog.set(count)
            self._metrics.outbox_oldest_age.set(age)
        except Exception as exc:
            log.debug("outbox backlog not sampled: %r", exc)
        for stream, durable in self._consumers():
            try:
                info = await self._stream().consumer_info(stream, durable, timeout=INFO_TIMEOUT_S)
            except Exception as exc:
                log.debug("consumer %s not sampled: %r", durable, exc)
                continue
            self._metrics.consumer_pending.labels(durable).set(info.num_pending or 0)
            self._metrics.consumer_ack_pending.labels(durable).set(info.num_ack_pending or 0)
