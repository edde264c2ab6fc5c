"""A bulletin as .docx in the usual official layout (GB/T 9704 in outline), with python-docx.

文号 above the title, the title in 方正小标宋简体, 主送 line, headings in 黑体, text in 仿宋_GB2312
(三号, 16 pt), tables in 仿宋_GB2312 五号 whose header row repeats on every page, the issuer and
the date in Chinese at the end, 抄送 below, and the page number (a PAGE field) in the footer.
Font names are set for East Asian text too (`w:eastAsia`), which Word uses for Chinese characters.
"""

from __future__ import annotations

import io

from docx import Document as new_document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.table import Table
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from services.progress.bulletin_sections import Document, Section

BODY_FONT = "仿宋_GB2312"
HEADING_FONT = "黑体"
TITLE_FONT = "方正小标宋简体"
BODY_PT, TITLE_PT, TABLE_PT = 16, 22, 10.5


def set_font(run: Run, name: str, size: float, *, bold: bool = False) -> None:
    run.font.name = name
    run.font.size = Pt(size)
    run.font.bold = bold
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)


def _paragraph(
    doc: object,
    text: str,
    font: str = BODY_FONT,
    size: float = BODY_PT,
    *,
    align: int | None = None,
    indent: bool = False,
) -> Paragraph:
    paragraph: Paragraph = doc.add_paragraph()  # type: ignore[attr-defined]
    if align is not None:
        paragraph.alignment = align
    if indent:
        paragraph.paragraph_format.first_line_indent = Pt(size * 2)
    set_font(paragraph.add_run(text), font, size)
    return paragraph


def repeat_header(table: Table) -> None:
    """Mark the first row as a header row, repeated at the top of each page the table runs onto."""
    tr_pr = table.rows[0]._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    tr_pr.append(header)


def _table(doc: object, section: Section) -> None:
    table: Table = doc.add_table(rows=1, cols=len(section.headers))  # type: ignore[attr-defined]
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, header in zip(table.rows[0].cells, section.headers, strict=True):
        set_font(cell.paragraphs[0].add_run(header), HEADING_FONT, TABLE_PT)
    for row in section.rows:
        for cell, value in zip(table.add_row().cells, row, strict=True):
            set_font(cell.paragraphs[0].add_run(str(value)), BODY_FONT, TABLE_PT)
    repeat_header(table)


def _page_number(paragraph: Paragraph) -> None:
    """— N — in the footer: a PAGE field Word fills in."""
    set_font(paragraph.add_run("— "), BODY_FONT, 14)
    run = paragraph.add_run()
    set_font(run, BODY_FONT, 14)
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"), ("end", None)):
        if kind:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        elif text == " PAGE ":
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = text
        else:
            element = OxmlElement("w:t")
            element.text = text
        run._r.append(element)
    set_font(paragraph.add_run(" —"), BODY_FONT, 14)


def render(document: Document) -> bytes:
    doc = new_document()
    page = doc.sections[0]
    page.page_width, page.page_height = Mm(210), Mm(297)
    page.top_margin, page.bottom_margin, page.left_margin, page.right_margin = Mm(37), Mm(35), Mm(28), Mm(26)
    footer = page.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _page_number(footer)

    _paragraph(doc, document.doc_no, align=WD_ALIGN_PARAGRAPH.CENTER)
    title = document.title + ("（草稿）" if document.draft else "")
    _paragraph(doc, title, TITLE_FONT, TITLE_PT, align=WD_ALIGN_PARAGRAPH.CENTER)
    if document.main_to:
        _paragraph(doc, f"{document.main_to}：")
    for section in document.sections:
        _paragraph(doc, section.title, HEADING_FONT)
        for text in section.paragraphs:
            _paragraph(doc, text, indent=True)
        if section.headers and section.rows:
            _table(doc, section)
    _paragraph(doc, document.issuer, align=WD_ALIGN_PARAGRAPH.RIGHT)
    _paragraph(doc, document.dated, align=WD_ALIGN_PARAGRAPH.RIGHT)
    if document.copy_to:
        _paragraph(doc, f"抄送：{document.copy_to}。", size=14)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
