"""台账: the full task table of one notice with its status, as xlsx (openpyxl) and csv."""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import astuple, dataclass
from datetime import date
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlmodel import Session, or_, select

from services.common.errors import ApiError
from services.progress.models import ProgressReport, ProgressTask

COLUMNS = ("序号", "任务内容", "牵头领导", "主办单位", "协办单位", "完成时限", "目标", "最新进展", "完成率", "状态")
FLAG_ZH = {"blue": "蓝", "yellow": "黄", "red": "红"}
# Light fills keep black text readable when printed; the word in the cell carries the flag too.
FLAG_FILL = {"blue": "9BC2E6", "yellow": "FFE699", "red": "FF9999"}
STALE_MARK = "【与上期雷同】"
CO_UNIT_MARK = "（协办）"
# Widest a column may grow, in Excel character units; longer text wraps.
MAX_WIDTH = {"任务内容": 60, "最新进展": 50, "目标": 30}
DEFAULT_MAX_WIDTH = 24


@dataclass
class LedgerRow:
    number: int
    text: str
    leaders: str
    host_units: str
    co_units: str
    deadline: str
    targets: str
    latest: str
    completion: float  # a fraction, so the spreadsheet can compute with it
    status: str
    flag: str


def _deadline(task: ProgressTask) -> str:
    parts = [task.deadline_phrase] if task.deadline_phrase else []
    if task.original_due_date:
        parts.append(f"（{task.original_due_date.isoformat()}）")
    if task.due_date and task.due_date != task.original_due_date:
        parts.append(f"已延期至 {task.due_date.isoformat()}")
    steps = [f"{m.get('due_date', '')} {m.get('target', '')}" for m in getattr(task, "milestones", None) or []]
    if steps:
        parts.append("；阶段目标：" + "；".join(steps))
    return "".join(parts)


def _latest(task: Any) -> str:
    """The latest progress shown, headed by its period and the unit that reported it.

    Host units' reports stand for the task (as they make its completion); a co-unit's shows only
    while no host has reported, and says so, since it is not the host's word on the task.
    """
    if not task.latest_report_id:
        return ""
    who = task.latest_unit or task.latest_unit_id or ""
    if task.latest_unit_id and task.latest_unit_id not in task.host_unit_ids:
        who += CO_UNIT_MARK
    head = "【" + " ".join(part for part in (task.latest_period, who) if part) + "】"
    return (STALE_MARK if task.stale else "") + head + task.latest_narrative


def _status(task: ProgressTask) -> str:
    word = FLAG_ZH.get(task.flag, task.flag)
    if task.closeout_state == "closed":
        return f"{word}（已办结）"
    if task.closeout_state == "requested":
        return f"{word}（办结待审）"
    return word


_LEDGER_COLUMNS = (
    "doc_no",
    "number",
    "text",
    "leaders",
    "host_units",
    "co_units",
    "deadline_phrase",
    "original_due_date",
    "due_date",
    "milestones",
    "word_targets",
    "quantities",
    "latest_report_id",
    "latest_period",
    "latest_unit",
    "host_unit_ids",
    "latest_narrative",
    "stale",
    "percent",
    "flag",
    "closeout_state",
)


def ledger_rows(*, session: Session, notice: str) -> tuple[str, list[LedgerRow]]:
    """The notice's tasks in number order; `notice` is its 文号 or notice id.

    Plain rows of the ledger's columns, not task objects: a notice of 20,000 tasks stays small.
    """
    table = ProgressTask.__table__  # type: ignore[attr-defined]
    reports = ProgressReport.__table__  # type: ignore[attr-defined]
    # The latest report's unit id, by its primary key: the task keeps only the unit's name.
    tasks = session.execute(
        select(*(table.c[name] for name in _LEDGER_COLUMNS), reports.c.unit_id.label("latest_unit_id"))
        .outerjoin(reports, reports.c.report_id == table.c.latest_report_id)
        .where(or_(table.c.doc_no == notice, table.c.notice_id == notice), table.c.removed == False)  # noqa: E712
        .order_by(table.c.number)
    )
    rows: list[LedgerRow] = []
    doc_no = ""
    for t in tasks:
        doc_no = doc_no or t.doc_no
        rows.append(
            LedgerRow(
                number=t.number,
                text=t.text,
                leaders="、".join(t.leaders),
                host_units="、".join(t.host_units),
                co_units="、".join(t.co_units),
                deadline=_deadline(t),
                targets="；".join(str(q.get("text", "")) for q in [*t.quantities, *(t.word_targets or [])]),
                latest=_latest(t),
                completion=round(t.percent / 100, 3),
                status=_status(t),
                flag=t.flag,
            )
        )
    if not rows:
        raise ApiError(404, "notice_not_found", f"未找到通知 {notice} 的任务", f"no tasks of notice {notice}")
    return doc_no, rows


def display_width(text: str) -> int:
    """Width in Excel character units: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def to_xlsx(doc_no: str, rows: list[LedgerRow], today: date) -> bytes:
    """The ledger as a workbook, written row by row (openpyxl's write-only mode keeps no cell objects)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("台账")
    book.properties.title = f"{doc_no} 任务落实台账（{today.isoformat()}）"
    values = [list(astuple(row))[: len(COLUMNS)] for row in rows]
    wrapped = set()
    for number, name in enumerate(COLUMNS, start=1):
        cap = MAX_WIDTH.get(name, DEFAULT_MAX_WIDTH)
        widest = max(display_width(str(t or "")) for t in [name, *(v[number - 1] for v in values)])
        sheet.column_dimensions[get_column_letter(number)].width = min(widest, cap) + 2
        if widest > cap:
            wrapped.add(number - 1)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{len(rows) + 1}"
    bold = Font(bold=True)
    centred = Alignment(horizontal="center", vertical="center")
    wrap = Alignment(wrap_text=True, vertical="top")
    fills = {flag: PatternFill("solid", start_color=rgb, end_color=rgb) for flag, rgb in FLAG_FILL.items()}
    header = []
    for name in COLUMNS:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font, cell.alignment = bold, centred
        header.append(cell)
    sheet.append(header)
    percent_col, status_col = COLUMNS.index("完成率"), COLUMNS.index("状态")
    for row, line in zip(rows, values, strict=True):
        cells: list[object] = []
        for index, value in enumerate(line):
            if index not in wrapped and index not in (percent_col, status_col):
                cells.append(value)
                continue
            cell = WriteOnlyCell(sheet, value=value)
            if index in wrapped:
                cell.alignment = wrap
            if index == percent_col:
                cell.number_format = "0.0%"
            if index == status_col:
                if row.flag in fills:
                    cell.fill = fills[row.flag]
                cell.alignment = centred
            cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def to_csv(rows: list[LedgerRow]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for row in rows:
        values = list(astuple(row))[: len(COLUMNS)]
        values[COLUMNS.index("完成率")] = f"{row.completion * 100:.1f}%"
        writer.writerow(values)
    # The BOM makes Excel read the file as UTF-8 instead of the local code page.
    return buffer.getvalue().encode("utf-8-sig")
