"""A bulletin as .xlsx: a cover sheet, then one sheet per section, with openpyxl."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Font

from services.progress.bulletin_sections import Document

_BOLD = Font(bold=True)


def render(document: Document) -> bytes:
    book = Workbook()
    cover = book.active
    cover.title = "通报"
    for row in (
        ["标题", document.title + ("（草稿）" if document.draft else "")],
        ["文号", document.doc_no],
        ["主送", document.main_to],
        ["抄送", document.copy_to],
        ["印发", f"{document.issuer} {document.dated}"],
    ):
        cover.append(row)
    for section in document.sections:
        sheet = book.create_sheet(section.sheet[:31])
        sheet.append([section.title])
        sheet["A1"].font = _BOLD
        for text in section.paragraphs:
            sheet.append([text])
        if section.headers:
            sheet.append(section.headers)
            for cell in sheet[sheet.max_row]:
                cell.font = _BOLD
            for row in section.rows:
                sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
