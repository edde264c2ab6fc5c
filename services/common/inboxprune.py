"""Inbox rows are deleted once their event can no longer be delivered again.

A consumer meets an event id again only while the event is in its stream (a redelivery, or a
consumer re-created from the start of the stream) or while a re-publish of it could pass the
stream's duplicate window. A row processed more than the stream's max age plus its duplicate window
ago is therefore dead weight. The age is read from the stream on the server at each pruning, not
from the settings: an operator may have lengthened it, and a stream without one (the tokens') keeps
its consumers' rows for ever. A day more covers the skew between the server's clock and ours.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from nats.js.client import JetStreamContext
from nats.js.errors import NotFoundError

from proto.streams import stream_for
from proto.subjects import Subjects
from services.common.inbox import PRUNE

log = logging.getLogger(__name__)

CLOCK_SKEW = timedelta(days=1)
DeleteInSlices = Callable[[Any, dict[str, Any]], Awaitable[int]]


class InboxPruning:
    """An hourly job for the outbox relay (`OutboxRelay.add_pruning`) over this service's consumers."""

    def __init__(
        self,
        subjects: Subjects,
        consumers: Sequence[tuple[str, str]],
        jetstream: Callable[[], JetStreamContext],
        delete_in_slices: DeleteInSlices,
    ) -> None:
        self._subjects = subjects
        self._consumers = consumers  # (subject, consumer), filled as the service subscribes
        self._jetstream = jetstream
        self._delete = delete_in_slices

    async def __call__(self) -> int:
        deleted = 0
        for subject, consumer in self._consumers:
            keep = await self.keep_for(subject)
            if keep is not None:
                before = datetime.now(UTC) - keep
                deleted += await self._delete(PRUNE, {"consumer": consumer, "before": before})
        return deleted

    async def keep_for(self, subject: str) -> timedelta | None:
        """How long a consumer of `subject` must remember an event id; None: for ever."""
        name = stream_for(self._subjects, subject).name
        try:
            config = (await self._jetstream().stream_info(name)).config
        except NotFoundError:
            log.warning("inbox: stream %s is missing; its consumers' rows are kept", name)
            return None
        if not config.max_age:
            return None
        return timedelta(seconds=config.max_age + (config.duplicate_window or 0)) + CLOCK_SKEW
