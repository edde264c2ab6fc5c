"""The root's streams on the server: created with the deployment's limits, never reset at a start.

A stream's limits (age, bytes, replicas, storage) belong to whoever runs NATS once it exists: an
operator may raise the age of a busy stream or move it to three replicas with `nats stream edit`,
and a service restart must not put them back. So limits apply when a stream is created; at later
starts a service only adds subjects a new version of Luoshi needs (on the streams it publishes to,
as only their publishers may update them) and logs where the stream differs from its settings.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Collection
from dataclasses import dataclass

from nats.js.api import DiscardPolicy, StorageType, StreamConfig
from nats.js.client import JetStreamContext
from nats.js.errors import NotFoundError

from proto.streams import CURRENT, DEAD_LETTERS, StreamDef, stream_defs
from proto.subjects import Subjects

log = logging.getLogger(__name__)

DAY_S = 86_400.0


@dataclass(frozen=True)
class StreamLimits:
    """What a new stream gets; 0 age and -1 bytes mean no limit."""

    max_age_days: float = 90.0
    dlq_max_age_days: float = 365.0
    max_bytes: int = -1
    replicas: int = 1
    storage: str = "file"

    def max_age_s(self, stream: StreamDef) -> float:
        if stream.keeps == CURRENT:
            return 0.0  # every live token must stay, however old
        days = self.dlq_max_age_days if stream.keeps == DEAD_LETTERS else self.max_age_days
        return days * DAY_S


def stream_config(stream: StreamDef, limits: StreamLimits) -> StreamConfig:
    bounded = stream.keeps != CURRENT and limits.max_bytes > 0
    return StreamConfig(
        name=stream.name,
        subjects=list(stream.subjects),
        description=stream.description,
        storage=StorageType(limits.storage),
        num_replicas=limits.replicas,
        duplicate_window=stream.duplicate_window,
        max_msgs_per_subject=stream.max_msgs_per_subject,
        max_age=limits.max_age_s(stream),
        max_bytes=limits.max_bytes if bounded else -1,
        # A full stream refuses new events rather than dropping old ones nobody may have read yet:
        # the outbox keeps a refused event and retries, so nothing acknowledged is lost.
        discard=DiscardPolicy.NEW if bounded else DiscardPolicy.OLD,
    )


async def ensure_streams(
    js: JetStreamContext, subjects: Subjects, owned: Collection[str], limits: StreamLimits | None = None
) -> None:
    """Create missing streams with `limits`; add missing subjects to the `owned` ones; change nothing else.

    Safe to run at each start of each service, in any order: any service may create a stream.
    """
    limits = limits or StreamLimits()
    for stream in stream_defs(subjects):
        wanted = stream_config(stream, limits)
        try:
            info = await js.stream_info(stream.name)
        except NotFoundError:
            await js.add_stream(wanted)
            log.info("created stream %s (max age %s days)", stream.name, (wanted.max_age or 0) / DAY_S or "no")
            continue
        await _reconcile(js, info.config, wanted, owned=stream.name in owned)


async def _reconcile(js: JetStreamContext, have: StreamConfig, wanted: StreamConfig, *, owned: bool) -> None:
    missing = [s for s in wanted.subjects or [] if s not in (have.subjects or [])]
    if missing and owned:
        # The server's own config with subjects added, so every limit an operator set stays.
        await js.update_stream(dataclasses.replace(have, subjects=[*(have.subjects or []), *missing]))
        log.warning("stream %s: added subjects %s", have.name, ", ".join(missing))
    elif missing:
        log.warning("stream %s lacks subjects %s; its publisher adds them at its start", have.name, missing)
    differs = differences(have, wanted)
    if differs:
        log.warning(
            "stream %s keeps its own %s; settings (%s) apply to new streams only", have.name, *_describe(differs)
        )


LIMIT_FIELDS = ("max_age", "max_bytes", "num_replicas", "storage", "duplicate_window", "max_msgs_per_subject")


def differences(have: StreamConfig, wanted: StreamConfig) -> dict[str, tuple[object, object]]:
    """Limits where the stream on the server differs from what the settings would create."""
    return {
        name: (getattr(have, name), getattr(wanted, name))
        for name in LIMIT_FIELDS
        if getattr(have, name) != getattr(wanted, name)
    }


def _describe(differs: dict[str, tuple[object, object]]) -> tuple[str, str]:
    have = ", ".join(f"{name}={h}" for name, (h, _w) in differs.items())
    wanted = ", ".join(f"{name}={w}" for name, (_h, w) in differs.items())
    return have, wanted
