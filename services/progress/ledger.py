"""台账: the full task table of one notice with its status, as xlsx (openpyxl) and csv."""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import astuple, dataclass
from datetime import date

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlmodel import Session, col, or_, select

from services.common.errors import ApiError
from services.progress.models import ProgressTask

COLUMNS = ("序号", "任务内容", "牵头领导", "主办单位", "协办单位", "完成时限", "目标", "最新进展", "完成率", "状态")
FLAG_ZH = {"blue": "蓝", "yellow": "黄", "red": "红"}
# Light fills keep black text readable when printed; the word in the cell carries the flag too.
FLAG_FILL = {"blue": "9BC2E6", "yellow": "FFE699", "red": "FF9999"}
STALE_MARK = "【与上期雷同】"
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
    return "".join(parts)


def _latest(task: ProgressTask) -> str:
    if not task.latest_report_id:
        return ""
    head = f"【{task.latest_period} {task.latest_unit}】" if task.latest_period else ""
    return (STALE_MARK if task.stale else "") + head + task.latest_narrative


def _status(task: ProgressTask) -> str:
    word = FLAG_ZH.get(task.flag, task.flag)
    if task.closeout_state == "closed":
        return f"{word}（已办结）"
    if task.closeout_state == "requested":
        return f"{word}（办结待审）"
    return word


def ledger_rows(*, session: Session, notice: str) -> tuple[str, list[LedgerRow]]:
    """The notice's tasks in number order; `notice` is its 文号 or notice id."""
    tasks = session.exec(
        select(ProgressTask)
        .where(or_(ProgressTask.doc_no == notice, ProgressTask.notice_id == notice), ProgressTask.removed == False)  # noqa: E712
        .order_by(col(ProgressTask.number))
    ).all()
    if not tasks:
        raise ApiError(404, "notice_not_found", f"未找到通知 {notice} 的任务", f"no tasks of notice {notice}")
    rows = [
        LedgerRow(
            number=t.number,
            text=t.text,
            leaders="、".join(t.leaders),
            host_units="、".join(t.host_units),
            co_units="、".join(t.co_units),
            deadline=_deadline(t),
            targets="；".join(str(q.get("text", "")) for q in t.quantities),
            latest=_latest(t),
            completion=round(t.percent / 100, 3),
            status=_status(t),
            flag=t.flag,
        )
        for t in tasks
    ]
    return tasks[0].doc_no, rows


def display_width(text: str) -> int:
    """Width in Excel character units: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def to_xlsx(doc_no: str, rows: list[LedgerRow], today: date) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "台账"
    book.properties.title = f"{doc_no} 任务落实台账（{today.isoformat()}）"
    sheet.append(list(COLUMNS))
    for row in rows:
        sheet.append(list(astuple(row))[: len(COLUMNS)])
    bold = Font(bold=True)
    for cell in sheet[1]:
        cell.font = bold
        cell.alignment = Alignment(horizontal="center", vertical="center")
    percent_col, status_col = COLUMNS.index("完成率") + 1, COLUMNS.index("状态") + 1
    for index, row in enumerate(rows, start=2):
        sheet.cell(index, percent_col).number_format = "0.0%"
        status = sheet.cell(index, status_col)
        if row.flag in FLAG_FILL:
            status.fill = PatternFill("solid", start_color=FLAG_FILL[row.flag], end_color=FLAG_FILL[row.flag])
        status.alignment = Alignment(horizontal="center", vertical="center")
    for number, name in enumerate(COLUMNS, start=1):
        cap = MAX_WIDTH.get(name, DEFAULT_MAX_WIDTH)
        texts = [name] + [str(sheet.cell(r, number).value or "") for r in range(2, len(rows) + 2)]
        widest = max(display_width(t) for t in texts)
        sheet.column_dimensions[get_column_letter(number)].width = min(widest, cap) + 2
        if widest > cap:
            for r in range(2, len(rows) + 2):
                sheet.cell(r, number).alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
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
