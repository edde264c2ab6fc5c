"""`clock.tick`: time passing, so rules that depend on dates run without a request."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from proto.envelope import Event


class ClockTicked(Event):
    today: date = Field(description="The date of the Luoshi clock at this tick.")
