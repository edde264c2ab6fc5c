"""The broker side of every service: streams, declared publishers and durable consumers.

This module deliberately avoids `from __future__ import annotations`: FastStream reads the
handler annotations at decoration time.
"""

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from faststream import AckPolicy
from faststream.nats import JStream, NatsBroker, PullSub
from faststream.nats.annotations import NatsMessage
from faststream.nats.publisher.usecase import LogicPublisher
from nats.js.api import ConsumerConfig, DeliverPolicy, StorageType, StreamConfig
from nats.js.client import JetStreamContext
from nats.js.errors import NotFoundError
from pydantic import BaseModel, ValidationError

from proto.envelope import Event
from proto.streams import StreamDef, stream_defs, stream_for
from proto.subjects import Subjects

log = logging.getLogger(__name__)


def create_broker(nats_url: str, name: str) -> NatsBroker:
    servers = [s.strip() for s in nats_url.split(",") if s.strip()]
    # Reconnect for ever: a restarted nats-server must not leave a service deaf.
    return NatsBroker(servers, name=f"luoshi-{name}", max_reconnect_attempts=-1, reconnect_time_wait=1)


async def ensure_streams(js: JetStreamContext, subjects: Subjects) -> None:
    """Create or update every stream; safe to run at each start of each service."""
    for stream in stream_defs(subjects):
        config = _stream_config(stream)
        try:
            await js.stream_info(stream.name)
        except NotFoundError:
            await js.add_stream(config)
        else:
            await js.update_stream(config)


def _stream_config(stream: StreamDef) -> StreamConfig:
    return StreamConfig(
        name=stream.name,
        subjects=list(stream.subjects),
        description=stream.description,
        storage=StorageType.FILE,
        duplicate_window=stream.duplicate_window,
    )


class Publishers:
    """Declared publishers, one per event subject, so AsyncAPI documents what a service emits."""

    def __init__(self, broker: NatsBroker, subjects: Subjects) -> None:
        self._broker = broker
        self._subjects = subjects
        self._by_pattern: dict[str, LogicPublisher] = {}

    def declare(self, subject: str, schema: type[Event], description: str) -> LogicPublisher:
        stream = stream_for(self._subjects, subject)
        publisher = self._broker.publisher(
            subject,
            stream=JStream(stream.name, declare=False),
            schema=schema,
            title=f"{subject}:publish",
            description=description,
        )
        self._by_pattern[subject] = publisher
        return publisher

    def _find(self, subject: str) -> tuple[LogicPublisher, str]:
        if subject in self._by_pattern:
            return self._by_pattern[subject], subject
        for pattern, publisher in self._by_pattern.items():
            if "{" in pattern and subject.startswith(pattern.split("{", 1)[0]):
                return publisher, subject
        raise KeyError(f"no publisher declared for {subject}")

    async def publish(self, subject: str, payload: bytes, event_id: str) -> None:
        """Publish with the event id as Nats-Msg-Id and wait for the stream's ack.

        The declared publisher documents the subject (AsyncAPI); the bytes go straight through
        the broker's JetStream context: FastStream's publish path (middlewares, a message object
        per call) cost the relay more CPU than the publish itself, ~6% of the service's under load.
        """
        self._find(subject)  # only declared subjects go out, so the AsyncAPI document stays complete
        await self._broker.config.connection_state.stream.publish(
            subject, payload, headers={"Nats-Msg-Id": event_id, "content-type": "application/json"}
        )


Handle = Callable[[Any], Awaitable[None]]


def durable_consumer(
    broker: NatsBroker,
    *,
    subjects: Subjects,
    subject: str,
    consumer: str,
    model: type[BaseModel],
    handle: Handle,
    max_deliver: int,
    dead_letter: Callable[[str, bytes, str], Awaitable[None]],
    description: str,
) -> None:
    """Subscribe `handle` to `subject` through a durable pull consumer.

    A handler that raises is nacked and redelivered; after `max_deliver` attempts, or at once
    for a payload that is not a valid event, the message goes to the dead letters (never dropped
    silently) and is acked so it stops blocking the consumer.
    """
    stream = stream_for(subjects, subject)
    durable = f"{subjects.root.replace('.', '_')}_{consumer}"

    @broker.subscriber(
        subject,
        stream=JStream(stream.name, declare=False),
        durable=durable,
        pull_sub=PullSub(batch_size=50, timeout=0.5),
        config=ConsumerConfig(
            durable_name=durable,
            deliver_policy=DeliverPolicy.ALL,
            max_deliver=max_deliver + 1,
            ack_wait=30,
        ),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        title=f"{subject}:{consumer}",
        description=description,
    )
    async def _consume(msg: NatsMessage) -> None:
        raw: bytes = msg.body
        try:
            event = model.model_validate_json(raw)
        except ValidationError as exc:
            log.error("poison event on %s for %s: %s", subject, consumer, exc)
            await dead_letter(subject, raw, f"invalid payload: {exc.errors()[:3]}")
            return
        try:
            await handle(event)
        except Exception as exc:
            delivered = msg.raw_message.metadata.num_delivered or 1
            if delivered >= max_deliver:
                log.exception("giving up on %s for %s after %d deliveries", subject, consumer, delivered)
                await dead_letter(subject, raw, f"{type(exc).__name__}: {exc}")
                return
            log.warning("handler %s failed (delivery %d), will be redelivered", consumer, delivered)
            raise
