"""Stale reports: a narrative that repeats the previous period's, by plain character similarity.

Character bigrams suit Chinese (no word boundaries) and take linear time, where difflib's
matcher can go quadratic on the 5,000-character narratives the service accepts.
"""

from __future__ import annotations

import re

_NOISE = re.compile(r"[\s，。；、：,.;:！!？?“”\"'（）()]+")


def _bigrams(text: str) -> set[str]:
    text = _NOISE.sub("", text)
    if len(text) < 2:
        return {text} if text else set()
    return {text[i : i + 2] for i in range(len(text) - 1)}


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of the two texts' character bigrams, punctuation and spaces ignored."""
    first, second = _bigrams(a), _bigrams(b)
    if not first or not second:
        return 0.0
    return len(first & second) / len(first | second)


def is_stale(narrative: str, previous: str | None, threshold: float) -> bool:
    return bool(previous) and similarity(narrative, previous or "") >= threshold
