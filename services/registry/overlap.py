"""Overlap: one government's two notices of one year promising the same thing.

A work-report breakdown and a special programme of the same year often carry the same
commitment; two units could then report twice on one piece of work. Such pairs are suggested
as probable duplicates, with a higher similarity floor than series links because the text of a
duplicated commitment is usually copied nearly word for word.
"""

from __future__ import annotations

from typing import Protocol

OVERLAP_MIN = 0.45


class _Issued(Protocol):
    doc_no: str
    area: str
    level: str
    year: int | None


def is_overlap_pair(a: _Issued, b: _Issued) -> bool:
    return a.doc_no != b.doc_no and a.area == b.area and a.level == b.level and a.year is not None and a.year == b.year
