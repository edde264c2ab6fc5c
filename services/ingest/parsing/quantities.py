from __future__ import annotations

from proto.notice import Quantity


def extract_quantities(text: str) -> list[Quantity]:
    """Quantitative targets in one cleaned task text (stub: filled by the quantities work)."""
    return []
