"""`bulletin.published`: a periodic 通报 of flags by unit and leader."""

from __future__ import annotations

from pydantic import Field

from proto.envelope import Event


class BulletinPublished(Event):
    bulletin_id: str = Field(description="Id of the bulletin.")
    title: str = Field(description="Chinese title, e.g. 2025年第3期督查通报.")
    period: str = Field(description="The period covered.")
    counts: dict[str, int] = Field(default_factory=dict, description="Tasks per flag.")
