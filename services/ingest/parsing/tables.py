"""Task tables flattened to text: `| 序号 | 工作任务 | 牵头领导 | 牵头单位 | 责任单位 | 完成时限 |`.

Rows come as markdown pipes (docx tables, spreadsheets) or tabs. A whole table is read at once:
its layout (`columns.infer_layout`) decides what each column holds, then each row becomes a
chapter, a task, or the continuation of the task above (a row whose number cell is empty: a cell
wrapped over rows or pages).
"""

from __future__ import annotations

from dataclasses import dataclass

from services.ingest.parsing.columns import CHAPTER_CELL_RE, NUMBER_CELL_RE, Layout, infer_layout
from services.ingest.parsing.normalise import compact


def split_row(line: str) -> list[str]:
    if "\t" in line and not line.lstrip().startswith("|"):
        return [c.strip() for c in line.split("\t")]
    body = line.strip()
    if body.startswith("|"):
        body = body[1:]
    if body.endswith("|"):
        body = body[:-1]
    return [c.strip() for c in body.split("|")]


@dataclass
class RowEvent:
    kind: str  # "chapter", "task" or "more"
    text: str = ""  # the chapter heading
    cells: dict[str, str] | None = None  # role → cell text, for "task" and "more"
    number: int | None = None  # None for a task of a table without a number column


def _chapter_of(cells: list[str]) -> str | None:
    """A row spanning the table (one filled cell) that heads a chapter."""
    filled = [c for c in cells if compact(c)]
    if len(filled) == 1 and CHAPTER_CELL_RE.match(compact(filled[0])):
        return filled[0]
    return None


def row_events(rows: list[list[str]], layout: Layout) -> list[RowEvent]:
    """The rows below the header as chapters, tasks and continuations."""
    events: list[RowEvent] = []
    numbered = "number" in layout.roles.values()
    headers = set(layout.header_keys)
    last_chapter = ""
    for cells in rows[layout.header_rows :]:
        if not any(compact(c) for c in cells) or tuple(compact(c) for c in cells) in headers:
            continue  # empty, or the header repeated on a new page
        heading = _chapter_of(cells)
        if heading is not None:
            events.append(RowEvent("chapter", text=heading))
            continue
        row = {role: cells[i] for i, role in layout.roles.items() if i < len(cells)}
        chapter = compact(row.pop("chapter", ""))
        if chapter and chapter != last_chapter:
            # 一、工业经济 opens that chapter; 工业经济 alone (a 类别 column) the next one. A value
            # repeated on every row of its chapter opens it once.
            events.append(RowEvent("chapter", text=chapter))
            last_chapter = chapter
        row.pop("note", None)
        if "detail" in row:
            detail = row.pop("detail")
            task = row.get("task", "")
            row["task"] = f"{task}{'' if task.endswith(('。', '；', '：')) or not task else '：'}{detail}"
        if not numbered:
            if compact(row.get("task", "")):
                events.append(RowEvent("task", cells=row))
            continue
        m = NUMBER_CELL_RE.match(compact(row.pop("number", "")))
        if m:
            events.append(RowEvent("task", cells=row, number=int(m.group(1))))
        elif not compact(cells[_number_index(layout)] if _number_index(layout) < len(cells) else ""):
            events.append(RowEvent("more", cells=row))
    return events


def _number_index(layout: Layout) -> int:
    return next(i for i, r in layout.roles.items() if r == "number")


def read_table(rows: list[list[str]], previous: Layout | None) -> tuple[Layout | None, list[RowEvent]]:
    layout = infer_layout(rows, previous)
    if layout is None:
        return None, []
    return layout, row_events(rows, layout)
