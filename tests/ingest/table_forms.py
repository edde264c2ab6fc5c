"""A shared notice re-laid as the task tables other offices send: other header words, no header,
a header merged over two rows, a table split over pages, a chapter column, a spreadsheet, rows
flattened to plain text. The cells come from the parse of the .txt notice (exact on the gold), so
each form is scored against the same gold as the .txt.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from proto.notice import ParsedNotice, ParsedTask
from services.ingest.parsing.normalise import compact
from services.ingest.parsing.parser import parse_text
from tests.ingest.gold import notice_path

Rows = list[list[str]]


@dataclass
class Source:
    head: list[str]  # the notice's lines above its first chapter (title, doc number, cover letter)
    parsed: ParsedNotice

    def chapter_heading(self, ordinal: str) -> str:
        title = next(c.title for c in self.parsed.chapters if c.ordinal == ordinal)
        return f"{ordinal}、{title}"

    def by_chapter(self) -> list[tuple[str | None, list[ParsedTask]]]:
        """Chapters in order with their tasks (chapters without tasks included)."""
        out: list[tuple[str | None, list[ParsedTask]]] = []
        loose = [t for t in self.parsed.tasks if t.chapter is None]
        if loose:
            out.append((None, loose))
        for c in self.parsed.chapters:
            out.append((c.ordinal, [t for t in self.parsed.tasks if t.chapter == c.ordinal]))
        return out


@cache
def source(name: str) -> Source:
    text = notice_path(name).read_text(encoding="utf-8")
    parsed = parse_text(text, source_name=name)
    first = f"一、{compact(parsed.chapters[0].title)[:6]}"
    lines = text.split("\n")
    cut = next(i for i, line in enumerate(lines) if compact(line).lstrip("#").startswith(first))
    return Source(lines[:cut], parsed)


def cells(task: ParsedTask) -> dict[str, str]:
    """A task's cells as an office writes them: names joined with 、, a trailing 等 where there was one."""
    hosts, co = "、".join(task.host_units), "、".join(task.co_units)
    if task.has_etc:
        if co:
            co += "等"
        else:
            hosts += "等"
    deadline = task.deadline_phrases[-1] if task.deadline_phrases else ""
    return {
        "number": str(task.number),
        "text": task.text,
        "leaders": "、".join(task.leaders),
        "hosts": hosts,
        "co": co,
        "deadline": deadline,
    }


ORDER = ("number", "text", "leaders", "hosts", "co", "deadline")


def row(task: ParsedTask, order: tuple[str, ...] = ORDER) -> list[str]:
    c = cells(task)
    return [c[k] for k in order]


# ---------------------------------------------------------------- docx with merges


def _docx(blocks: list[str | tuple[Rows, list[tuple[int, int, int, int]]]]) -> bytes:
    """Paragraphs and tables; a table comes with merges (row0, col0, row1, col1), text kept in the first cell."""
    import docx

    document = docx.Document()
    for block in blocks:
        if isinstance(block, str):
            document.add_paragraph(block)
            continue
        rows, merges = block
        table = document.add_table(rows=len(rows), cols=max(len(r) for r in rows))
        for table_row, values in zip(table.rows, rows, strict=True):
            for cell, value in zip(table_row.cells, values, strict=False):
                if value:
                    cell.text = value
        for r0, c0, r1, c1 in merges:
            keep = table.cell(r0, c0).text
            merged = table.cell(r0, c0).merge(table.cell(r1, c1))
            merged.text = keep
    document.add_paragraph("")  # Word always ends a body with a paragraph; a Word 97 export needs it
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def other_headers(src: Source) -> bytes:
    """序号 | 目标任务 | 责任领导 | 牵头部门 | 参与单位 | 时间节点, chapters as rows spanning the table."""
    rows: Rows = [["序号", "目标任务", "责任领导", "牵头部门", "参与单位", "时间节点"]]
    merges = []
    for ordinal, tasks in src.by_chapter():
        if ordinal is not None:
            merges.append((len(rows), 0, len(rows), 5))
            rows.append([src.chapter_heading(ordinal), "", "", "", "", ""])
        rows += [row(t) for t in tasks]
    return _docx([*src.head, (rows, merges)])


def no_header(src: Source) -> bytes:
    """One table per chapter, no header row; chapter headings as paragraphs between the tables."""
    blocks: list = list(src.head)
    for ordinal, tasks in src.by_chapter():
        if ordinal is not None:
            blocks.append(src.chapter_heading(ordinal))
        if tasks:
            blocks.append(([row(t, ("number", "text", "leaders", "hosts", "co", "deadline")) for t in tasks], []))
    return _docx(blocks)


def two_row_header(src: Source) -> bytes:
    """A header over two rows: 责任单位 spanning 牵头单位 and 配合单位 below; other headers merged down."""
    rows: Rows = [
        ["序号", "具体任务", "区级领导", "责任单位", "", "完成时限"],
        ["", "", "", "牵头单位", "配合单位", ""],
    ]
    merges = [(0, 3, 0, 4), (0, 0, 1, 0), (0, 1, 1, 1), (0, 2, 1, 2), (0, 5, 1, 5)]
    for ordinal, tasks in src.by_chapter():
        if ordinal is not None:
            merges.append((len(rows), 0, len(rows), 5))
            rows.append([src.chapter_heading(ordinal), "", "", "", "", ""])
        rows += [row(t) for t in tasks]
    return _docx([*src.head, (rows, merges)])


def split_pages(src: Source) -> bytes:
    """A chapter column (类别, merged down its chapter) and the table split in two across a page:
    the header not repeated, and the task at the break wrapped over the two parts."""
    header = ["类别", "序号", "工作措施", "牵头领导", "牵头单位", "配合单位"]
    rows: Rows = []
    merges = []
    for ordinal, tasks in src.by_chapter():
        first = len(rows) + 1
        for i, t in enumerate(tasks):
            c = cells(t)
            chapter = src.chapter_heading(ordinal) if ordinal is not None and i == 0 else ""
            rows.append([chapter, c["number"], c["text"], c["leaders"], c["hosts"], c["co"]])
        if ordinal is not None and len(tasks) > 1:
            merges.append((first, 0, first + len(tasks) - 1, 0))
    half = len(rows) // 2
    # The task at the break continues on the next page, in a row with no number.
    text = rows[half - 1][2]
    cut = len(text) // 2
    rows[half - 1][2] = text[:cut]
    tail = ["", "", text[cut:], "", "", ""]
    part1 = [header, *rows[:half]]
    part2 = [tail, *rows[half:]]
    m1 = [(r0 + 0, c0, min(r1, half), c1) for r0, c0, r1, c1 in merges if r0 <= half]
    m2 = [(max(r0 - half, 1), c0, r1 - half, c1) for r0, c0, r1, c1 in merges if r1 > half]
    m1 = [m for m in m1 if m[2] > m[0]]
    m2 = [m for m in m2 if m[2] > m[0]]
    return _docx([*src.head, (part1, m1), "", (part2, m2)])


def xlsx(src: Source) -> bytes:
    """A workbook: a cover sheet, then the 分解表 sheet with a merged title row above a two-row header,
    chapters merged across the row, and a second sheet continuing the table."""
    from openpyxl import Workbook

    wb = Workbook()
    cover = wb.active
    cover.title = "说明"
    for i, line in enumerate(src.head, start=1):
        cover.cell(i, 1, line)
    ws = wb.create_sheet("任务分解表")
    ws.append(["2025年重点任务分解表"])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=6)
    ws.append(["序号", "主要目标", "责任领导", "责任单位", None, "完成时限"])
    ws.append([None, None, None, "牵头单位", "配合单位", None])
    ws.merge_cells("D2:E2")
    for col in "ABCF":
        ws.merge_cells(f"{col}2:{col}3")
    sheet = ws
    chapters = src.by_chapter()
    for index, (ordinal, tasks) in enumerate(chapters):
        if index == len(chapters) // 2:
            sheet = wb.create_sheet("续表")
        if ordinal is not None:
            sheet.append([src.chapter_heading(ordinal)])
            r = sheet.max_row
            sheet.merge_cells(start_row=r, start_column=1, end_row=r, end_column=6)
        for t in tasks:
            values = row(t)
            sheet.append([int(values[0]), *values[1:]])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def flattened_text(src: Source, width: int = 60) -> bytes:
    """Rows copied out of a web page: number, text, then leaders and units without labels, cells apart
    by runs of spaces; a long text wraps onto the next lines, its row's last cells after its end."""
    lines = list(src.head)
    for ordinal, tasks in src.by_chapter():
        if ordinal is not None:
            lines.append(src.chapter_heading(ordinal))
        for t in tasks:
            c = cells(t)
            text = f"{c['number']}  {c['text']}"
            while len(text) > width:
                lines.append(text[:width])
                text = text[width:]
            lines.append("    ".join(x for x in (text, c["leaders"], c["hosts"], c["co"]) if x))
    return "\n".join(lines).encode("utf-8")


FORMS: dict[str, tuple[str, Callable[[Source], bytes]]] = {
    "other_headers": ("docx", other_headers),
    "no_header": ("docx", no_header),
    "two_row_header": ("docx", two_row_header),
    "split_pages": ("docx", split_pages),
    "xlsx": ("xlsx", xlsx),
    "flattened_text": ("txt", flattened_text),
}
