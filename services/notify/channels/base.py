"""What every channel shares: the send's target and what the receiver's answer means."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import httpx

# sent: done. retry: try again after back-off (counts towards the dead letters). rate_limited:
# the receiver asked us to slow down (back off, never a dead letter). broken: the receiver says
# the target itself is gone (a revoked robot): the subscription stops until the office fixes it.
Verdict = Literal["sent", "retry", "rate_limited", "broken"]
ANSWER_MAX = 500


@dataclass(frozen=True)
class Target:
    channel: str
    address: str  # URL or e-mail address
    secret: str = ""


@dataclass(frozen=True)
class Outcome:
    verdict: Verdict
    status: int = 0
    answer: str = ""


def short(text: str) -> str:
    return text[:ANSWER_MAX]


def transport_failure(error: Exception) -> Outcome:
    """A receiver that did not answer (refused, reset, timed out): try again later."""
    return Outcome("retry", 0, short(f"{type(error).__name__}: {error}"))


def http_status_outcome(response: httpx.Response) -> Outcome | None:
    """The verdict an HTTP status alone decides, or None when the body must be read."""
    if response.status_code == 429:
        return Outcome("rate_limited", 429, short(response.text))
    if response.status_code >= 300:
        return Outcome("retry", response.status_code, short(response.text))
    return None
