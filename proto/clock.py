"""`clock.tick`: time passing, so rules that depend on dates run without a request."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from proto.envelope import Event


class ClockTicked(Event):
    today: date = Field(
        description="The new date in the government's time zone (the notify service's TIMEZONE, Asia/Shanghai by "
        "default): a tick goes out when that date changes, at midnight Beijing time, not UTC's."
    )
