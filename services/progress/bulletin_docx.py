"""A bulletin as .docx in the usual official layout (GB/T 9704 in outline), with python-docx.

文号 above the title, the title in 方正小标宋简体, 主送 line, headings in 黑体, text in 仿宋_GB2312
(三号, 16 pt), tables in 仿宋_GB2312 五号 whose header row repeats on every page, the issuer and
the date in Chinese at the end, 抄送 below, and the page number (a PAGE field) in the footer.
Font names are set for East Asian text too (`w:eastAsia`), which Word uses for Chinese characters.
"""

from __future__ import annotations

import io

from docx import Document as new_document
from docx.enum.style import WD_STYLE_TYPE
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


def _table_style(doc: object) -> object:
    """A paragraph style for table text (仿宋_GB2312 五号): one style, not a font per cell, keeps big tables fast."""
    style = doc.styles.add_style("通报表格", WD_STYLE_TYPE.PARAGRAPH)  # type: ignore[attr-defined]
    style.base_style = doc.styles["Normal"]  # type: ignore[attr-defined]
    style.font.name, style.font.size = BODY_FONT, Pt(TABLE_PT)
    style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), BODY_FONT)
    style.paragraph_format.space_after = Pt(0)
    return style


def _table(doc: object, section: Section, style: object) -> None:
    # The style's id set on each paragraph's XML: `Paragraph.style = …` scans every style of the
    # document per call, which cost 5 s for a table of 2,000 rows.
    style_id = style.style_id  # type: ignore[attr-defined]
    width = len(section.headers)
    table: Table = doc.add_table(rows=len(section.rows) + 1, cols=width)  # type: ignore[attr-defined]
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    cells = table._cells  # every cell at once: `rows[i].cells` walks the whole grid each time
    for index, header in enumerate(section.headers):
        paragraph = cells[index].paragraphs[0]
        paragraph._p.style = style_id
        set_font(paragraph.add_run(header), HEADING_FONT, TABLE_PT)
    for r, row in enumerate(section.rows, start=1):
        for c, value in enumerate(row):
            paragraph = cells[r * width + c].paragraphs[0]
            paragraph._p.style = style_id
            paragraph.add_run(str(value))
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

    style = _table_style(doc)
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
            _table(doc, section, style)
    _paragraph(doc, document.issuer, align=WD_ALIGN_PARAGRAPH.RIGHT)
    _paragraph(doc, document.dated, align=WD_ALIGN_PARAGRAPH.RIGHT)
    if document.copy_to:
        _paragraph(doc, f"抄送：{document.copy_to}。", size=14)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
