"""Cleaned task texts of the shared notices, cut out with the gold `text_start` / `text_end`.

The quantity and deadline extractors are tested on these texts, so their tests do not depend on the
structure parser: the cleaning here follows the gold README (noise removed, then all whitespace).
The shared folder is found by `tests.shared` (LUOSHI_SHARED overrides it; absent, the test skips).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from tests.ingest.gold import load_gold, notice_path

_PAGE_NUMBER_LINE = re.compile(r"^[ \t]*-[ \t]*\d+[ \t]*-[ \t]*$", re.M)
_PAGE_NUMBER_DASHES = re.compile(r"—\s*\d+\s*—")
_PAGE_NUMBER_U = re.compile(r"<u>\s*\d+\s*</u>")
_RULE_LINE = re.compile(r"^[ \t]*-{3,}[ \t]*$", re.M)
_HEADING_MARK = re.compile(r"^[ \t]*#{1,6}[ \t]*", re.M)
_BULLET = re.compile(r"^[ \t]*-[ \t]+", re.M)
_BOOKMARK = re.compile(r"\[bookmark:[^\]]*\]")
_LATEX_SUB = re.compile(r"_\{([^{}]*)\}")
_WHITESPACE = re.compile(r"\s+")


def clean_notice(raw: str) -> str:
    """The notice as one string, noise and all whitespace removed (gold README, "Cleaning")."""
    text = _PAGE_NUMBER_LINE.sub("", raw)
    text = _PAGE_NUMBER_DASHES.sub("", text)
    text = _PAGE_NUMBER_U.sub("", text)
    text = _RULE_LINE.sub("", text)
    text = _HEADING_MARK.sub("", text)
    text = _BULLET.sub("", text)
    text = text.replace("**", "")
    text = _BOOKMARK.sub("", text)
    text = _LATEX_SUB.sub(r"\1", text)
    text = text.replace("兗", "兖")
    return _WHITESPACE.sub("", text)


@dataclass(frozen=True)
class GoldTask:
    notice: str
    number: int
    text: str
    gold: dict[str, Any]


@cache
def gold_tasks(name: str) -> tuple[GoldTask, ...]:
    """Every gold task of a notice with its cleaned text, found in order in the cleaned notice."""
    raw = notice_path(name).read_text(encoding="utf-8")
    cleaned = clean_notice(raw)
    golds = load_gold(name)["tasks"]
    starts: list[int] = []
    for task in golds:
        start = cleaned.find(task["text_start"], starts[-1] + 1 if starts else 0)
        if start < 0:
            raise LookupError(f"{name} task {task['number']}: text_start not found")
        starts.append(start)
    tasks: list[GoldTask] = []
    for i, task in enumerate(golds):
        # text_end can repeat inside one task (a sentence pattern used twice): take its last
        # occurrence before the next task begins.
        if i + 1 < len(golds):
            end = cleaned.rfind(task["text_end"], starts[i], starts[i + 1])
        else:
            end = cleaned.find(task["text_end"], starts[i])
        if end < 0:
            raise LookupError(f"{name} task {task['number']}: text_end not found")
        tasks.append(GoldTask(name, task["number"], cleaned[starts[i] : end + len(task["text_end"])], task))
    return tuple(tasks)
