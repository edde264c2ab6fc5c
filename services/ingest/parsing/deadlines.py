from __future__ import annotations

from datetime import date

from proto.notice import Deadline


def extract_deadline_phrases(text: str) -> list[str]:
    """The unique time-limit phrases of a cleaned task text, in order (stub)."""
    return []


def resolve_deadline(phrases: list[str], year: int | None, issued: date | None = None) -> Deadline | None:
    """The governing deadline of a task from its phrases and the notice's year (stub)."""
    return None
