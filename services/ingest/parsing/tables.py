"""Task tables flattened to text: `| 序号 | 工作任务 | 牵头领导 | 牵头单位 | 责任单位 | 完成时限 |`.

Rows come as markdown pipes (docx tables) or tabs. A header row names the columns; a data
row whose number cell is empty continues the previous row (a cell wrapped over rows).
"""

from __future__ import annotations

import re

# Column roles, tested in order: the first pattern a header cell matches decides its role.
_COLUMN_ROLES: list[tuple[str, re.Pattern[str]]] = [
    ("number", re.compile(r"^(序号|编号|序列|No\.?)$", re.I)),
    ("leaders", re.compile(r"领导|责任人")),
    ("hosts", re.compile(r"牵头|主办|主责")),
    ("co", re.compile(r"配合|协办|参与|协同")),
    ("chengban", re.compile(r"承办")),
    ("mixed", re.compile(r"责任单位|责任部门")),
    ("deadline", re.compile(r"时限|时间|期限|节点")),
    ("task", re.compile(r"任务|内容|事项|目标|措施")),
]
_CHAPTER_CELL_RE = re.compile(r"^(?:\*\*)?[一二三四五六七八九十]{1,3}\s*[、.．]")
_NUMBER_CELL_RE = re.compile(r"^(?:\*\*)?(\d{1,3})(?:\*\*)?[.、．]?$")


def split_row(line: str) -> list[str]:
    if "\t" in line and not line.lstrip().startswith("|"):
        return [c.strip() for c in line.split("\t")]
    body = line.strip()
    if body.startswith("|"):
        body = body[1:]
    if body.endswith("|"):
        body = body[:-1]
    return [c.strip() for c in body.split("|")]


def header_roles(cells: list[str]) -> dict[int, str] | None:
    """Column index → role when the row looks like a task-table header."""
    roles: dict[int, str] = {}
    for i, cell in enumerate(cells):
        text = cell.replace("*", "").strip()
        if not text or len(text) > 12:
            continue
        for role, pattern in _COLUMN_ROLES:
            if pattern.search(text) and role not in roles.values():
                roles[i] = role
                break
    if "task" in roles.values() and len(roles) >= 3:
        return roles
    return None


class TableState:
    """Reads table rows one by one and reports chapters, tasks and continuation rows."""

    def __init__(self) -> None:
        self.roles: dict[int, str] | None = None

    def feed(self, cells: list[str]) -> tuple[str, object] | None:
        roles = header_roles(cells)
        if roles is not None:
            self.roles = roles
            return None
        non_empty = [c for c in cells if c]
        if not non_empty:
            return None
        if len(non_empty) == 1 and _CHAPTER_CELL_RE.match(non_empty[0]):
            return "chapter", non_empty[0]
        if self.roles is None:
            return None
        row = {role: cells[i] for i, role in self.roles.items() if i < len(cells)}
        number_cell = row.pop("number", "")
        m = _NUMBER_CELL_RE.match(number_cell)
        if m:
            return "task", (int(m.group(1)), row)
        if not number_cell and _CHAPTER_CELL_RE.match(row.get("task", "")) and len(non_empty) == 1:
            return "chapter", row["task"]
        if not number_cell:
            return "more", row
        return None
