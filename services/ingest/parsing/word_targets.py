"""Targets written as words — 创千亿, 翻一番, 全覆盖 — with the value each implies. Pure.

They are kept apart from `quantities`, which are the figures a notice writes in digits and what
the gold parse counts; a word target says how far a task means to go when it names no figure.
"""

from __future__ import annotations

import re

from proto.notice import Quantity

# (pattern, value, unit): the value a phrase implies, in the unit it implies it in.
_WORDS: tuple[tuple[re.Pattern[str], float, str], ...] = (
    (re.compile(r"翻两番"), 4.0, "倍"),
    (re.compile(r"翻一番|翻番|倍增"), 2.0, "倍"),
    (re.compile(r"(?:全覆盖|全面覆盖|全域覆盖)"), 100.0, "%"),
    (re.compile(r"(?:创|突破|迈上|冲刺|达到|超|过)?万亿(?:级|元)?"), 10000.0, "亿元"),
    (re.compile(r"(?:创|突破|迈上|冲刺|达到|超|过)?千亿(?:级|元)?"), 1000.0, "亿元"),
    (re.compile(r"(?:创|突破|迈上|冲刺|达到|超|过)?百亿(?:级|元)?"), 100.0, "亿元"),
)
# A figure before the word makes it a count of such things (3个千亿级产业集群), not a word target.
_COUNTED = re.compile(r"[0-9０-９一二三四五六七八九十两]+个?$")


def extract_word_targets(text: str) -> list[Quantity]:
    """Each word target in `text`, in order, once per phrase."""
    found: list[tuple[int, Quantity]] = []
    taken: list[tuple[int, int]] = []
    for pattern, value, unit in _WORDS:
        for match in pattern.finditer(text):
            start, end = match.span()
            if any(start < b and a < end for a, b in taken) or _COUNTED.search(text[max(0, start - 4) : start]):
                continue
            taken.append((start, end))
            found.append((start, Quantity(text=match.group(), value=value, unit=unit)))
    return [q for _start, q in sorted(found, key=lambda item: item[0])]
