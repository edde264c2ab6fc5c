"""The ranking of units in a bulletin: a documented, configurable score. Pure.

score = 100 × (w₁·on-time reporting + w₂·flag mix + w₃·closed on time) / (w₁ + w₂ + w₃), where

- on-time reporting is the share of the unit's reports due in the period that came in by their
  deadline (a unit with no report due scores 1);
- flag mix is (blue + ½·yellow) / tasks hosted: blue counts fully, yellow half, red nothing;
- closed on time is the share of its tasks due by the period's end (or closed by then) that were
  closed (办结) by their due date (a unit with none due scores 1).

The weights are settings (`LUOSHI_PROGRESS_BULLETIN_WEIGHTS`, default 40/40/20). Ties rank by
unit name, so the order is the same every time the same figures are ranked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

DEFAULT_WEIGHTS = {"on_time": 40.0, "flag_mix": 40.0, "closed_on_time": 20.0}
YELLOW_SHARE = 0.5


@dataclass(frozen=True)
class Parts:
    on_time: float | None
    flag_mix: float | None
    closed_on_time: float | None


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def flag_mix(blue: int, yellow: int, total: int) -> float | None:
    return (blue + YELLOW_SHARE * yellow) / total if total else None


def score(parts: Parts, weights: Mapping[str, float]) -> float:
    """The unit's score, 0–100, one decimal; a part with nothing to measure counts as full marks."""
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    value = sum(weights.get(name, 0.0) * (1.0 if share is None else share) for name, share in vars(parts).items())
    return round(100 * value / total, 1)


def rank(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows (with `score` and `name`) best first, each given its `rank` (equal scores share one)."""
    ordered = sorted(rows, key=lambda r: (-r["score"], r["name"], r["key"]))
    ranked: list[dict[str, Any]] = []
    for index, row in enumerate(ordered):
        same = ranked and ranked[-1]["score"] == row["score"]
        ranked.append({**row, "rank": ranked[-1]["rank"] if same else index + 1})
    return ranked


def top_and_bottom(ranked: Sequence[dict[str, Any]], count: int) -> tuple[list[str], list[str]]:
    """The names of the first and last `count` units (fewer when there are fewer than 2×count)."""
    count = min(count, len(ranked) // 2)
    if count <= 0:
        return [], []
    return [r["name"] for r in ranked[:count]], [r["name"] for r in ranked[-count:][::-1]]
