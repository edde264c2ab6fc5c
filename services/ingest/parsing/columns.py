"""What each column of a task table holds: from its header where one is recognised, else its contents.

Offices word their headers differently (工作任务, 目标任务, 具体措施; 牵头领导, 责任领导; 牵头单位,
责任部门; 完成时限, 时间节点…), merge them over two rows, repeat them on every page or leave them
out. `infer_layout` reads a whole table at once: the header rows at its top (none, one or two),
each column's role from the header words, and for a column the header does not name, its role
from what its cells hold (ascending numbers, people, unit names, deadlines, the longest text).
Every table's layout comes with the reasons, so the office can see what was taken as what.
Pure: rows of cell strings in, a `Layout` out.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from services.ingest.parsing.assignments import split_outside_parens
from services.ingest.parsing.deadlines import extract_deadline_phrases
from services.ingest.parsing.normalise import compact

# Header words per role, tested in order on the header text of a column (both header rows joined,
# the lower row first: under 责任单位 a lower 牵头单位 decides).
HEADER_ROLES: list[tuple[str, re.Pattern[str]]] = [
    ("number", re.compile(r"^(?:序号|编号|序列|No\.?|#)$", re.I)),
    ("note", re.compile(r"备注|说明")),
    ("chapter", re.compile(r"^(?:类别|类型|领域|板块|方面|分类|篇章|专项|部分|任务类别|重点领域)$")),
    ("leaders", re.compile(r"领导|责任人|分管|包保|联系人")),
    ("hosts", re.compile(r"牵头|主办|主责")),
    ("co", re.compile(r"配合|协办|参与|协同|协助")),
    ("chengban", re.compile(r"承办")),
    ("mixed", re.compile(r"单位|部门|责任主体")),
    ("deadline", re.compile(r"时限|时间|期限|节点|日期|完成时")),
    ("task", re.compile(r"任务|内容|事项|目标|措施|工作|项目|举措|要求")),
]
ROLE_NAMES = {
    "number": "序号",
    "note": "备注（不读取）",
    "chapter": "章节",
    "leaders": "牵头领导",
    "hosts": "牵头单位",
    "co": "配合单位",
    "chengban": "承办单位",
    "mixed": "责任单位",
    "deadline": "完成时限",
    "task": "任务内容",
    "detail": "任务内容（续）",
}
CHAPTER_CELL_RE = re.compile(r"^(?:\*\*)?[一二三四五六七八九十]{1,3}\s*[、.．]")
NUMBER_CELL_RE = re.compile(r"^(?:\*\*)?[（(]?(\d{1,3})[)）]?(?:\*\*)?[.、．]?$")
_UNIT_END = frozenset("局委办部院室会司团社联组行街道镇乡村县市区府心构队门位关协校站所厂处科馆署厅园港场）)")
_UNIT_WORDS_RE = re.compile(r"^(?:各|相关|有关)|(?:政府|中心|公司|集团|指挥部|管委会|街道|小组|机构|企业)$")
_TITLE_RE = re.compile(r"(?:副?(?:区|市|县|镇)长|书记|主任|部长|局长|秘书长|同志|委员|主席)")
_PERSON_RE = re.compile(r"^[\u4e00-\u9fff·]{2,4}$")
_ITEM_SPLIT_RE = re.compile(r"[、，,；;\s]+")
_HEADER_CELL_MAX = 14


@dataclass
class Layout:
    """Column index → role, how many rows at the top are header, and why each role was taken."""

    roles: dict[int, str]
    header_rows: int
    width: int
    reasons: list[str] = field(default_factory=list)
    header_keys: list[tuple[str, ...]] = field(default_factory=list)  # header rows, to skip repeats

    def describe(self) -> str:
        return "；".join(self.reasons)


def header_role(text: str) -> str | None:
    # A header wrapped in its cell (序 / 号) comes joined with 、 by the readers.
    text = compact(text).replace("、", "")
    if not text or len(text) > _HEADER_CELL_MAX:
        return None
    for role, pattern in HEADER_ROLES:
        if pattern.search(text):
            return role
    return None


def _is_header_row(cells: list[str]) -> bool:
    filled = [compact(c) for c in cells if compact(c)]
    if not filled or any(len(c) > _HEADER_CELL_MAX for c in filled):
        return False
    if any(NUMBER_CELL_RE.match(c) or CHAPTER_CELL_RE.match(c) for c in filled):
        return False
    recognised = sum(1 for c in filled if header_role(c) is not None)
    return recognised >= 2 or (recognised >= 1 and len(filled) == recognised and len(filled) < len(cells))


def _is_title_row(cells: list[str]) -> bool:
    """A caption above the header (附件：…任务分解表), one cell, not a chapter."""
    filled = [c for c in cells if compact(c)]
    return len(filled) == 1 and not CHAPTER_CELL_RE.match(compact(filled[0]))


def _items(cell: str) -> list[str]:
    return [x for x in _ITEM_SPLIT_RE.split(compact(cell).strip("。.等")) if x]


def is_unit(item: str) -> bool:
    item = item.removesuffix("等")
    if item.endswith("领导"):
        return False  # 各区政府领导: people
    return len(item) >= 2 and (item[-1] in _UNIT_END or bool(_UNIT_WORDS_RE.search(item)))


def is_person(item: str) -> bool:
    item = item.removesuffix("等")
    if item.endswith("领导") and len(item) <= 12:
        return True
    if _TITLE_RE.search(item) and len(item) <= 12:
        return True
    return bool(_PERSON_RE.match(item)) and not is_unit(item)


def _share(cells: list[str], test) -> float:
    filled = [c for c in cells if compact(c)]
    if not filled:
        return 0.0
    return sum(1 for c in filled if test(c)) / len(filled)


def _numbers_ascend(cells: list[str]) -> bool:
    numbers = [int(m.group(1)) for c in cells if (m := NUMBER_CELL_RE.match(compact(c)))]
    if len(numbers) < max(1, len([c for c in cells if compact(c)]) * 0.7):
        return False
    return sum(1 for a, b in itertools.pairwise(numbers) if b > a or b == 1) >= (len(numbers) - 1) * 0.8


def _is_deadline_cell(cell: str) -> bool:
    text = compact(cell)
    return 0 < len(text) <= 24 and (
        bool(extract_deadline_phrases(text)) or text in {"长期坚持", "持续推进", "长期", "持续", "常态化"}
    )


def _is_unit_cell(cell: str) -> bool:
    items = [x for x in split_outside_parens(compact(cell).strip("。."), "、，,；;") if x]
    return bool(items) and sum(map(is_unit, items)) * 2 >= len(items)


def _content_role(cells: list[str]) -> tuple[str | None, str]:
    """The role a column's cells suggest, and the reason in words (None: left for the task test)."""
    filled = [c for c in cells if compact(c)]
    if not filled:
        return None, ""
    if _numbers_ascend(cells):
        return "number", "递增编号"
    if all(CHAPTER_CELL_RE.match(compact(c)) for c in filled) and len(filled) < len(cells):
        return "chapter", "章节标题"
    if _share(filled, _is_unit_cell) >= 0.6:
        return "units", "单位名称"
    if sum(len(compact(c)) for c in filled) / len(filled) > 40:
        return None, ""
    if _share(filled, _is_deadline_cell) >= 0.6:
        return "deadline", "日期或时限"
    if _share(filled, lambda c: (it := _items(c)) != [] and all(is_person(x) for x in it)) >= 0.6:
        return "leaders", "人名或职务"
    return None, ""


def _column(rows: list[list[str]], i: int) -> list[str]:
    return [r[i] if i < len(r) else "" for r in rows]


def _header_texts(header: list[list[str]], width: int) -> list[str]:
    """Per column, the header text with the lower row first (it names the finer role)."""
    out = []
    for i in range(width):
        parts = [compact(r[i]) for r in reversed(header) if i < len(r) and compact(r[i])]
        out.append("|".join(parts))
    return out


def _roles_from_header(texts: list[str]) -> tuple[dict[int, str], list[str]]:
    roles: dict[int, str] = {}
    reasons: list[str] = []
    for i, text in enumerate(texts):
        for part in text.split("|") if text else ():
            role = header_role(part)
            if role is None:
                continue
            if role == "task" and "task" in roles.values():
                role = "detail"
            if role in roles.values() and role not in {"note", "detail"}:
                break
            roles[i] = role
            reasons.append(f"第{i + 1}列“{part}”→{ROLE_NAMES[role]}（表头）")
            break
    return roles, reasons


def _fill_from_content(data: list[list[str]], width: int, roles: dict[int, str], reasons: list[str]) -> None:
    unit_columns: list[int] = []
    for i in range(width):
        if i in roles:
            continue
        role, why = _content_role(_column(data, i))
        if role == "units":
            unit_columns.append(i)
        elif role is not None and role not in roles.values():
            roles[i] = role
            reasons.append(f"第{i + 1}列→{ROLE_NAMES[role]}（内容为{why}）")
    taken = set(roles.values())
    free_unit_roles = [r for r in ("hosts", "co") if r not in taken]
    if "mixed" in taken or "chengban" in taken:
        free_unit_roles = ["co"] if "hosts" not in taken and "co" not in taken else []
    if len(unit_columns) == 1 and not taken & {"hosts", "co", "mixed", "chengban"}:
        free_unit_roles = ["mixed"]
    for i, role in zip(unit_columns, free_unit_roles, strict=False):
        roles[i] = role
        reasons.append(f"第{i + 1}列→{ROLE_NAMES[role]}（内容为单位名称）")
    if "task" not in roles.values():
        free = [i for i in range(width) if i not in roles and i not in unit_columns]
        if free:
            best = max(free, key=lambda i: sum(len(compact(c)) for c in _column(data, i)))
            if any(compact(c) for c in _column(data, best)):
                roles[best] = "task"
                reasons.append(f"第{best + 1}列→{ROLE_NAMES['task']}（文字最长）")


def _header_span(rows: list[list[str]]) -> tuple[int, int]:
    """(first header row, header row count): a caption row may sit above, a second row below."""
    start = 0
    while start < min(2, len(rows) - 1) and _is_title_row(rows[start]) and _is_header_row(rows[start + 1]):
        start += 1
    if start >= len(rows) or not _is_header_row(rows[start]):
        return 0, 0
    count = 1
    if start + 1 < len(rows) and _is_header_row(rows[start + 1]):
        count = 2
    return start, count


def infer_layout(rows: list[list[str]], previous: Layout | None = None) -> Layout | None:
    """The layout of one table, or None when it is no task table (no column of task text)."""
    if not rows:
        return None
    width = max(len(r) for r in rows)
    start, count = _header_span(rows)
    if count == 0 and previous is not None and previous.width == width:
        # A table split over pages without its header repeated: the columns of the part before,
        # and for a column that part left unread (empty there), what this part holds.
        roles, reasons = dict(previous.roles), ["沿用上一表格的列（续表，无表头）"]
        _fill_from_content(rows, width, roles, reasons)
        return Layout(roles, 0, width, reasons, previous.header_keys)
    header = rows[start : start + count]
    roles, reasons = _roles_from_header(_header_texts(header, width))
    if count == 0:
        reasons.append("表格无表头，按内容识别各列")
    elif count == 2:
        reasons.insert(0, "表头占两行，已合并")
    data = rows[start + count :]
    _fill_from_content(data, width, roles, reasons)
    if "task" not in roles.values() or not (count or "number" in roles.values()):
        return None  # neither a header nor numbered rows: no sign this is a task table
    task_cells = [compact(c) for c in _column(data, next(i for i, r in roles.items() if r == "task")) if compact(c)]
    if task_cells and sum(map(len, task_cells)) / len(task_cells) < 4:
        return None  # a table of figures (指标 | 2023年 | 2024年), not of tasks
    if "number" not in roles.values():
        reasons.append("没有序号列，按行顺序编号")
    keys = [tuple(compact(c) for c in r) for r in header]
    return Layout(roles, start + count, width, reasons, keys)
