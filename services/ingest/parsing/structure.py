"""Chapters (一、二、…) and numbered tasks over the normalised physical lines.

Task numbers are checked against the expected sequence: a continuation line that happens to
start with digits (`1.5 万人`, `350 亿元，`) is not a task unless it carries the next number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from services.ingest.parsing.columns import Layout
from services.ingest.parsing.flatrows import CELL_MARK
from services.ingest.parsing.normalise import compact, strip_bold
from services.ingest.parsing.tables import read_table, split_row

CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}

_CHAPTER_RE = re.compile(r"^(?:\*\*)?\s*([一二三四五六七八九十]{1,3})\s*[、.．]\s*(.*)$")
_TASK_RE = re.compile(r"^(?:\*\*)?\s*(\d{1,3})\s*(?:\*\*)?\s*([.、．:：])(?!\d)\s*(.*)$")
# `1 扩大投资` (the space is squashed by the normaliser): weak, so checked harder; a measure
# word right after the digits (`3 家企业`) means a wrapped sentence, not a task.
_TASK_SPACE_RE = re.compile(
    r"^(\d{1,3})\s*(?=[\u4e00-\u9fff“\"《「])(?![个家万亿千百年月日天项人元吨亩台条座所处次场名户倍批类件套份米株头只位辆])(.*)$"
)
_CN_TASK_RE = re.compile(r"^(?:\*\*)?\s*[（(]([一二三四五六七八九十]{1,3})[)）]\s*(.*)$")
_INLINE_TASK_RE = re.compile(r"(?:(?<=\s)|(?<=[\u4e00-\u9fff\*]))(\d{1,3})\s*[.、．](?!\d)")
LABEL_LINE_RE = re.compile(
    r"^[（(]?\s*(?:\*\*)?\s*(?:牵头|责任|分管|联系|主办|承办|协办|配合|参与|主责|完成)[\u4e00-\u9fff]{0,4}\s*[:：]"
)
_FOOTER_RE = re.compile(
    r"^(?:抄送|抄报|主送|分送|报送)[:：]|^[（(]此[\u4e00-\u9fff]{0,4}(?:公开|发布)[\u4e00-\u9fff]{0,4}[)）]$|\d{1,2}日印发$"
)
_DATE_ONLY_RE = re.compile(r"^[\u4e00-\u9fff（）()]{0,30}?(?:19|20)\d{2}年\d{1,2}月\d{1,2}日$")
_TERMINAL = ("。", "；", ";", "）", ")", "”", "**", "！", "？", ".")


def cn_to_int(text: str) -> int:
    """Chinese ordinal up to 九十九 (一, 十, 十一, 二十三)."""
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (CN_DIGITS.get(tens, 1) if tens else 1) * 10 + (CN_DIGITS.get(ones, 0) if ones else 0)
    return CN_DIGITS.get(text, 0)


def int_to_cn(value: int) -> str:
    """1..99 as a Chinese ordinal (一, 十, 十一, 二十三), the inverse of `cn_to_int`."""
    digits = "零一二三四五六七八九"
    tens, ones = divmod(value, 10)
    if tens == 0:
        return digits[ones]
    return (digits[tens] if tens > 1 else "") + "十" + (digits[ones] if ones else "")


@dataclass
class ChapterBlock:
    ordinal: str
    title: str
    lines: list[str] = field(default_factory=list)  # prose between the heading and its first task


@dataclass
class TaskBlock:
    number: int
    chapter: str | None
    lines: list[str]
    cells: dict[str, str] | None = None  # set when the task came from a table row
    warnings: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Structure:
    preamble: list[str]
    chapters: list[ChapterBlock]
    tasks: list[TaskBlock]
    footer: list[str]
    numbering: str = "arabic"
    table_notes: list[str] = field(default_factory=list)  # per table: what each column was taken as


_FOOTER_FIRST = tuple("抄主分报（(")


def _is_footer(line: str, next_line: str, issuer: str | None) -> bool:
    c = compact(line)
    # Runs on every body line: test the regexes only where their first or last characters fit.
    if (c.startswith(_FOOTER_FIRST) or c.endswith("日印发")) and _FOOTER_RE.search(c):
        return True
    if c.endswith("日") and _DATE_ONLY_RE.match(c):
        return True
    # The issuer alone on a line signs the notice only when the date follows.
    return issuer is not None and c == issuer and bool(_DATE_ONLY_RE.match(compact(next_line)))


class _Builder:
    def __init__(self, issuer: str | None, cn_tasks: bool) -> None:
        self.issuer = issuer
        self.cn_tasks = cn_tasks
        self.preamble: list[str] = []
        self.chapters: list[ChapterBlock] = []
        self.tasks: list[TaskBlock] = []
        self.footer: list[str] = []
        self.current: TaskBlock | None = None
        self.heading_open = False  # the last line was a chapter heading that may wrap
        self.table_rows: list[list[str]] = []
        self.layout: Layout | None = None
        self.table_notes: list[str] = []

    # -- recognisers -----------------------------------------------------------------
    def expected(self) -> int:
        return self.tasks[-1].number + 1 if self.tasks else 1

    def _prev_line_terminal(self) -> bool:
        if self.current is None:
            return True
        last = self.current.lines[-1] if self.current.lines else ""
        # A row flattened to text ends with its marked cells: the row, and so the task, is complete.
        return last.endswith(_TERMINAL) or bool(LABEL_LINE_RE.match(last)) or CELL_MARK in last

    def _chapter_has_tasks(self) -> bool:
        if not self.chapters:
            return bool(self.tasks)
        return bool(self.tasks) and self.tasks[-1].chapter == self.chapters[-1].ordinal

    def match_task(self, line: str) -> tuple[int, str, str | None] | None:
        """(number, rest of line, warning code) when the line opens the next task."""
        if self.cn_tasks:
            m = _CN_TASK_RE.match(line)
            if not m:
                return None
            number, rest, strong = cn_to_int(m.group(1)), m.group(2), True
        else:
            m = _TASK_RE.match(line)
            if m:
                if m.group(2) in ":：":
                    return None
                number, rest, strong = int(m.group(1)), m.group(3), True
            else:
                m = _TASK_SPACE_RE.match(line)
                if not m:
                    return None
                number, rest, strong = int(m.group(1)), m.group(2), False
        expected = self.expected()
        if not strong and not self._prev_line_terminal():
            return None
        if number == expected:
            return number, rest, None
        if number == 1 and self.tasks and self.chapters and not self._chapter_has_tasks():
            return number, rest, None  # numbering restarts in each chapter
        if expected < number <= expected + 3 and strong and self._prev_line_terminal():
            return number, rest, "task_number_gap"
        return None

    def match_chapter(self, line: str, *, skips: bool = False) -> tuple[str, str] | None:
        """(ordinal, title) when the line opens the next chapter; `skips`: any later one (a chapter
        column names only the chapters that have tasks)."""
        m = _CHAPTER_RE.match(line)
        if not m:
            return None
        ordinal = m.group(1)
        value = cn_to_int(ordinal)
        expected = cn_to_int(self.chapters[-1].ordinal) + 1 if self.chapters else 1
        if value == expected or value == 1 or (skips and value > expected):
            return ordinal, m.group(2)
        return None

    # -- actions -----------------------------------------------------------------------
    def open_chapter(self, ordinal: str, rest: str) -> None:
        if cn_to_int(ordinal) == 1 and self.chapters:
            if any(t.chapter is not None for t in self.tasks):
                # A second 一、 after real chapters: an appendix or a new part; keep going.
                pass
            else:
                self.chapters = []
        if ordinal == "一" and self.tasks and all(t.chapter is None for t in self.tasks):
            # Numbered items before the first chapter were the cover letter's own list.
            for t in self.tasks:
                self.preamble.extend(t.lines)
            self.tasks = []
        self.current = None
        title = strip_bold(rest).strip()
        expected = self.expected()
        for m in _INLINE_TASK_RE.finditer(title):
            if int(m.group(1)) == expected and m.start() > 0:
                # A heading and a task sharing one line (`…强力突破 17.更大力度…`).
                self.chapters.append(ChapterBlock(ordinal, compact(title[: m.start()])))
                self.heading_open = False
                self.start_task(expected, title[m.end() :].strip(), None)
                return
        self.chapters.append(ChapterBlock(ordinal, compact(title)))
        self.heading_open = True

    def start_task(self, number: int, rest: str, warning: str | None) -> None:
        chapter = self.chapters[-1].ordinal if self.chapters else None
        block = TaskBlock(number=number, chapter=chapter, lines=[rest] if rest else [])
        if warning:
            block.warnings.append((warning, f"任务编号不连续（缺少{self.expected()}）/ task number gap"))
        self.tasks.append(block)
        self.current = block
        self.heading_open = False

    def continue_heading(self, line: str) -> bool:
        if not self.heading_open or not self.chapters:
            return False
        chapter = self.chapters[-1]
        text = compact(line)
        wraps = chapter.title.endswith(("、", "，", ",", "和", "与", "及"))
        short = len(text) <= 12 and not re.search(r"[。：:；;]", text) and not text[:1].isdigit()
        self.heading_open = False
        if self.match_chapter(line) is not None:
            return False
        if wraps or short:
            chapter.title += text
            return True
        return False

    def flush_table(self) -> None:
        """Read the table gathered so far as a whole, now that a non-table line ends it."""
        rows, self.table_rows = self.table_rows, []
        if not rows:
            return
        layout, events = read_table(rows, self.layout)
        if layout is None:
            return
        self.layout = layout
        self.table_notes.append(layout.describe())
        for event in events:
            if event.kind == "chapter":
                m = self.match_chapter(event.text, skips=True)
                if m is None and not _CHAPTER_RE.match(event.text):
                    # A chapter column naming its chapters without ordinals: numbered in order.
                    m = (int_to_cn(cn_to_int(self.chapters[-1].ordinal) + 1 if self.chapters else 1), event.text)
                if m:
                    self.open_chapter(*m)
                    self.heading_open = False
            elif event.kind == "task":
                self.add_table_task(event.number, event.cells or {}, numbered=event.number is not None)
            elif self.tasks and self.tasks[-1].cells is not None:
                cells_now = self.tasks[-1].cells
                for key, value in (event.cells or {}).items():
                    if value:
                        cells_now[key] = (cells_now.get(key, "") + value).strip()
                self.tasks[-1].lines = [cells_now.get("task", "")]

    def add_table_task(self, number: int | None, row: dict[str, str], *, numbered: bool) -> None:
        chapter = self.chapters[-1].ordinal if self.chapters else None
        block = TaskBlock(number=number or self.expected(), chapter=chapter, lines=[row.get("task", "")], cells=row)
        if not numbered:
            block.warnings.append(("table_unnumbered", "表格没有序号列，按行顺序编号 / numbered by row order"))
        self.tasks.append(block)
        self.current = None
        self.heading_open = False

    def feed(self, line: str, next_line: str = "") -> bool:
        """Consume one line; False once the footer starts."""
        if (self.tasks or self.table_rows) and _is_footer(line, next_line, self.issuer):
            self.flush_table()
            return False
        if line.startswith("|") or line.count("\t") >= 2:
            self.table_rows.append(split_row(line))
            return True
        self.flush_table()
        if self.continue_heading(line):
            return True
        task = self.match_task(line)
        if task is not None:
            self.start_task(*task)
            return True
        chapter = self.match_chapter(line)
        if chapter is not None:
            self.open_chapter(*chapter)
            return True
        if self.current is not None:
            self.current.lines.append(line)
        elif self.chapters:
            self.chapters[-1].lines.append(line)
        else:
            self.preamble.append(line)
        return True


def _run(builder: _Builder, lines: list[str]) -> None:
    for i, line in enumerate(lines):
        if not builder.feed(line, lines[i + 1] if i + 1 < len(lines) else ""):
            builder.footer = lines[i:]
            return
    builder.flush_table()


def parse_structure(lines: list[str], *, issuer: str | None = None) -> Structure:
    """Split body lines into preamble, chapters, tasks and footer."""
    builder = _Builder(issuer, cn_tasks=False)
    _run(builder, lines)
    if not builder.tasks and any(_CN_TASK_RE.match(x) for x in lines):
        # No arabic-numbered tasks: this notice numbers its tasks （一）（二）….
        builder = _Builder(issuer, cn_tasks=True)
        _run(builder, lines)
        return Structure(
            builder.preamble, builder.chapters, builder.tasks, builder.footer, "chinese", builder.table_notes
        )
    return Structure(builder.preamble, builder.chapters, builder.tasks, builder.footer, table_notes=builder.table_notes)
