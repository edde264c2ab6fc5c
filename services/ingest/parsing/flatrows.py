"""Task-table rows that reached Luoshi as plain text, one line per row, cells apart by spaces or tabs.

Copied out of a web page or a PDF, `5  新增规上工业企业20家，年底前完成  工业和信息化局` keeps no
label: the people and units stand at the end of the row, after a gap. The normaliser removes
spaces next to Chinese text, so before it runs, the gaps in front of those trailing cells are
marked (`CELL_MARK`), and the task reader takes each marked cell by what it holds. Only a gap of
two or more spaces (or a tab) counts, or one space in a line that opens with a task number, and
only before cells that are all names of people or units, so prose is left alone.
"""

from __future__ import annotations

import re

from services.ingest.parsing.columns import is_person, is_unit
from services.ingest.parsing.normalise import compact

CELL_MARK = "\ue000"  # a private-use character: never in a notice, kept by the normaliser
_ITEM_SEPS_RE = re.compile(r"[、，,；;]")
_WIDE_GAP_RE = re.compile(r"[ \u3000]{2,}|\t")
_ANY_GAP_RE = re.compile(r"[ \u3000\t]+")
_PARENS_RE = re.compile(r"[（(][^（）()]*[）)]")
_NUMBERED_RE = re.compile(r"^\s*\d{1,3}[ \t\u3000]+\S")


def _cell_kind(cell: str) -> str | None:
    """ "people" or "units" when every name in the cell is one, else None."""
    text = compact(cell)
    if text.endswith(("。", "；", ";", "！")):
        return None  # a sentence, not a list of names
    items = [x for x in _ITEM_SEPS_RE.split(text) if x]
    if not items or any(len(_PARENS_RE.sub("", x)) > 24 or "。" in x for x in items):
        return None
    if all(is_person(x) for x in items):
        return "people"
    if sum(map(is_unit, items)) * 2 >= len(items) and is_unit(items[-1]):
        return "units"
    return None


def _mark_line(line: str) -> str:
    if line.count("\t") >= 2 or line.lstrip().startswith("|"):
        return line  # a table row proper: the table reader's
    gap_re = _ANY_GAP_RE if _NUMBERED_RE.match(line) else _WIDE_GAP_RE
    parts = gap_re.split(line.strip())
    if len(parts) < 2:
        return line
    cut = len(parts)
    while cut > 1 and _cell_kind(parts[cut - 1]) is not None:
        cut -= 1
    if cut == len(parts) or not compact(" ".join(parts[:cut])):
        return line
    if not any(_cell_kind(c) == "units" for c in parts[cut:]):
        return line  # names of people alone after a gap may be prose (`…强力  突破`)
    if _NUMBERED_RE.match(line) and cut == 1:
        return line  # a number and then only names: no task text
    head = line.strip()
    # Rebuild: the head keeps its own spaces; each trailing cell is set off by the mark.
    tail = parts[cut:]
    pos = len(head)
    for cell in reversed(tail):
        pos = head.rfind(cell, 0, pos)
    return head[:pos].rstrip() + "".join(CELL_MARK + c for c in tail)


def mark_trailing_cells(text: str) -> str:
    """The text with the gaps before trailing name cells replaced by `CELL_MARK`."""
    return "\n".join(
        _mark_line(line) if (" " in line or "\t" in line or "\u3000" in line) else line for line in text.split("\n")
    )


def trailing_cells(text: str) -> tuple[str, dict[str, str] | None]:
    """(task text, cells by role) for a block whose row ended in marked cells; roles as a table's."""
    if CELL_MARK not in text:
        return text, None
    head, *cells = text.split(CELL_MARK)
    people = [c for c in cells if _cell_kind(c) == "people"]
    units = [c for c in cells if _cell_kind(c) != "people"]
    out: dict[str, str] = {}
    if people:
        out["leaders"] = "、".join(people)
    if len(units) == 1:
        out["mixed"] = units[0]
    elif units:
        out["hosts"] = units[0]
        out["co"] = "、".join(units[1:])
    return head, out
