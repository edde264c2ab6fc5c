"""Spreadsheet notices (.xlsx, .xls): every visible sheet in order, as table rows.

Offices circulate the same 分解表 as a workbook: a title row merged across the top, a header over
one or two rows, chapters merged across a row, the table continued on a second sheet, a cover
sheet with the notice's text. A merged range keeps its value in its top-left cell only (like a
merged Word cell), so the columns stay aligned and the table reader sees one value per merge.
A sheet of one column (a cover or notes sheet) comes as plain lines. Read by python-calamine,
which opens both the zip (xlsx) and the old binary (xls) format.
"""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime, time, timedelta

from services.ingest.parsing.readers.segments import cell_separator, reader_error, table_row, too_complex
from services.ingest.parsing.readers.zipguard import check_zip

MAX_CELLS = 400_000  # rows × columns over the whole workbook; a real 分解表 has a few thousand


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return f"{value.year}年{value.month}月{value.day}日"
    if isinstance(value, time | timedelta):
        return ""
    lines = str(value).replace("\r", "").split("\n")
    return cell_separator(lines).join(line.strip() for line in lines if line.strip())


def _open(data: bytes, is_zip: bool):
    from python_calamine import CalamineWorkbook

    if is_zip:
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                check_zip(zf)
        except zipfile.BadZipFile as exc:
            raise reader_error("corrupt", "表格文件已损坏", "the spreadsheet is corrupt") from exc
    try:
        return CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # calamine raises its own error types, one per format and cause
        text = str(exc).lower()
        if "password" in text or "encrypt" in text:
            raise reader_error(
                "encrypted", "文件已加密，无法读取，请去掉密码后重新上传", "the file is encrypted"
            ) from exc
        raise reader_error("corrupt", "表格文件已损坏", "the spreadsheet is corrupt") from exc


def read_sheet(data: bytes, *, is_zip: bool) -> str:
    """The workbook's visible sheets as lines: `| a | b |` rows, or plain lines for a one-column sheet."""
    workbook = _open(data, is_zip)
    lines: list[str] = []
    budget = MAX_CELLS
    for meta in workbook.sheets_metadata:
        if str(meta.visible).rsplit(".", 1)[-1].lower() != "visible":
            continue
        try:
            sheet = workbook.get_sheet_by_name(meta.name)
            budget -= sheet.height * sheet.width
            if budget < 0:
                raise too_complex("表格单元格过多", "too many cells in the workbook")
            rows = [[_cell_text(v) for v in row] for row in sheet.iter_rows()]
        except (ValueError, TypeError, OSError) as exc:
            raise reader_error("corrupt", "表格文件已损坏", "the spreadsheet is corrupt") from exc
        lines.extend(_sheet_lines(rows))
    return "\n".join(lines)


def _sheet_lines(rows: list[list[str]]) -> list[str]:
    filled = [r for r in rows if any(r)]
    if not filled:
        return []
    if max(sum(1 for c in r if c) for r in filled) <= 1:
        return [next(c for c in r if c) for r in filled]
    return [table_row(r) for r in filled]
