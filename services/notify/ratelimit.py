"""Per-target send limits (a DingTalk robot takes about 20 messages a minute): queue, never drop."""

from __future__ import annotations

from collections import defaultdict, deque
from datetime import datetime, timedelta

WINDOW = timedelta(minutes=1)


class TargetLimiter:
    """A sliding one-minute window per target, on the service's clock."""

    def __init__(self) -> None:
        self._sent: dict[str, deque[datetime]] = defaultdict(deque)

    def take(self, target: str, now: datetime, per_minute: int) -> datetime | None:
        """None and the send counted if one may go now; otherwise when the next one may."""
        sent = self._sent[target]
        while sent and sent[0] <= now - WINDOW:
            sent.popleft()
        if len(sent) >= per_minute:
            return sent[0] + WINDOW
        sent.append(now)
        return None
