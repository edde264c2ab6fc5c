"""Test-time builders: real .docx/.pdf files made from notice text, and broken files.

A line of text becomes one paragraph; `**…**` in it becomes a bold run (marks stripped).
The PDF uses reportlab's built-in CID font STSong-Light, which is not embedded, so it needs no
font file on the machine and builds fast; bold is the same face under the name
"STSong-Light,Bold", Acrobat's convention for a bold variant of a non-embedded font, which is
what readers see in real files.
"""

from __future__ import annotations

import copy
import io
import re
from collections.abc import Sequence
from functools import lru_cache

Segment = tuple[str, bool]
Block = str | Sequence[Sequence[str]]  # a paragraph line, or a table as rows of cells

_BOLD_MARK = re.compile(r"\*\*(.+?)\*\*")

REGULAR_FONT = "STSong-Light"
BOLD_FONT = "STSong-Light,Bold"
_LATIN_FONTS = {False: "Helvetica", True: "Helvetica-Bold"}


def bold_segments(line: str) -> list[Segment]:
    """Split a line on `**…**` into (text, bold) runs."""
    segments: list[Segment] = []
    pos = 0
    for match in _BOLD_MARK.finditer(line):
        if match.start() > pos:
            segments.append((line[pos : match.start()], False))
        segments.append((match.group(1), True))
        pos = match.end()
    if pos < len(line):
        segments.append((line[pos:], False))
    return segments


def bold_strings(text: str) -> list[str]:
    """The bold spans of marked text, whitespace removed (wrapping may break a span across lines)."""
    return ["".join(m.group(1).split()) for m in re.finditer(r"\*\*(.+?)\*\*", text, re.DOTALL)]


# ---------------------------------------------------------------- docx


def build_docx(text: str) -> bytes:
    return build_docx_blocks(text.split("\n"))


def build_docx_blocks(blocks: Sequence[Block], header: str | None = None, footer: str | None = None) -> bytes:
    """A docx of paragraphs and tables in the given order; optional header/footer text."""
    import docx

    document = docx.Document()
    for block in blocks:
        if isinstance(block, str):
            _add_runs(document.add_paragraph(), block)
        else:
            rows = [list(r) for r in block]
            table = document.add_table(rows=len(rows), cols=max(len(r) for r in rows))
            for r, row in enumerate(rows):
                for c, cell_text in enumerate(row):
                    paragraph = table.cell(r, c).paragraphs[0]
                    _add_runs(paragraph, cell_text)
    section = document.sections[0]
    if header is not None:
        section.header.paragraphs[0].text = header
    if footer is not None:
        section.footer.paragraphs[0].text = footer
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _add_runs(paragraph: object, line: str) -> None:
    for text, bold in bold_segments(line):
        run = paragraph.add_run(text)  # type: ignore[attr-defined]
        if bold:
            run.bold = True


# ---------------------------------------------------------------- pdf

_PAGE_W, _PAGE_H = 595.0, 842.0  # A4 in points
_MARGIN = 56.0
_SIZE = 11.0
_LEADING = 16.0


@lru_cache(maxsize=1)
def _register_fonts() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import CIDFontInfo, UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont(REGULAR_FONT))
    # reportlab knows only the regular face; the bold one is the same metrics under a bold name.
    info = copy.deepcopy(CIDFontInfo[REGULAR_FONT])
    info["BaseFont"] = "/" + BOLD_FONT
    descendant = info["DescendantFonts"][0]
    descendant["BaseFont"] = "/" + BOLD_FONT
    descendant["FontDescriptor"]["FontName"] = "/STSongStd-Light,Bold"
    CIDFontInfo[BOLD_FONT] = info
    bold = UnicodeCIDFont(REGULAR_FONT)
    bold.face.name = BOLD_FONT
    bold.name = bold.fontName = BOLD_FONT
    pdfmetrics.registerFont(bold)


@lru_cache(maxsize=4096)
def _in_cid_font(ch: str) -> bool:
    """Whether STSong-Light's UniGB-UCS2-H CMap maps the char (• and · it does not)."""
    from pdfminer.cmapdb import CMapDB

    if len(ch.encode("utf-16-be")) != 2:
        return False
    return bool(list(CMapDB.get_cmap("UniGB-UCS2-H").decode(ch.encode("utf-16-be"))))


def _font_for(ch: str, bold: bool) -> str:
    if _in_cid_font(ch):
        return BOLD_FONT if bold else REGULAR_FONT
    return _LATIN_FONTS[bold]


@lru_cache(maxsize=8192)
def _char_width(ch: str, font: str) -> float:
    from reportlab.pdfbase import pdfmetrics

    return pdfmetrics.stringWidth(ch, font, _SIZE)


def _wrap(segments: Sequence[Segment], width: float) -> list[list[tuple[str, str]]]:
    """Lay a paragraph out in lines of (text, font) runs no wider than `width`."""
    lines: list[list[tuple[str, str]]] = [[]]
    x = 0.0
    for text, bold in segments:
        for ch in text:
            font = _font_for(ch, bold)
            w = _char_width(ch, font)
            if x + w > width and lines[-1]:
                lines.append([])
                x = 0.0
            line = lines[-1]
            if line and line[-1][1] == font:
                line[-1] = (line[-1][0] + ch, font)
            else:
                line.append((ch, font))
            x += w
    return lines


def build_pdf(text: str) -> bytes:
    """A4 pages of 11 pt text, each source line a paragraph wrapped to the text width."""
    from reportlab.pdfgen import canvas

    _register_fonts()
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=(_PAGE_W, _PAGE_H), pageCompression=0)
    y = _PAGE_H - _MARGIN
    for source_line in text.split("\n"):
        for line in _wrap(bold_segments(source_line), _PAGE_W - 2 * _MARGIN) or [[]]:
            if y < _MARGIN:
                pdf.showPage()
                y = _PAGE_H - _MARGIN
            x = _MARGIN
            for run, font in line:
                pdf.setFont(font, _SIZE)
                pdf.drawString(x, y, run)
                x += sum(_char_width(ch, font) for ch in run)
            y -= _LEADING
    pdf.save()
    return out.getvalue()


def build_pdf_table(before: str, rows: Sequence[Sequence[str]], after: str) -> bytes:
    """One page: a paragraph, a ruled table (cells may hold `**…**`), a paragraph."""
    from reportlab.pdfgen import canvas

    _register_fonts()
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=(_PAGE_W, _PAGE_H))
    y = _PAGE_H - _MARGIN

    def draw(line: str, x: float, y: float) -> None:
        for text, bold in bold_segments(line):
            for ch in text:
                font = _font_for(ch, bold)
                pdf.setFont(font, _SIZE)
                pdf.drawString(x, y, ch)
                x += _char_width(ch, font)

    draw(before, _MARGIN, y)
    cols = max(len(r) for r in rows)
    col_w = (_PAGE_W - 2 * _MARGIN) / cols
    row_h = 2 * _LEADING
    top = y - _LEADING
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            draw(cell, _MARGIN + c * col_w + 4, top - r * row_h - _LEADING - 2)
    bottom = top - len(rows) * row_h
    for r in range(len(rows) + 1):
        pdf.line(_MARGIN, top - r * row_h, _PAGE_W - _MARGIN, top - r * row_h)
    for c in range(cols + 1):
        pdf.line(_MARGIN + c * col_w, top, _MARGIN + c * col_w, bottom)
    draw(after, _MARGIN, bottom - 2 * _LEADING)
    pdf.save()
    return out.getvalue()


# ---------------------------------------------------------------- bad files


def build_encrypted_pdf(text: str = "Encrypted notice", user_password: str = "user-secret") -> bytes:
    """A PDF that opens only with a user password; with user_password="" anyone may open it
    (only editing is restricted), as many published notices are."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.cell(text=text)
    pdf.set_encryption(owner_password="owner-secret", user_password=user_password)
    return bytes(pdf.output())


def build_overprinted_pdf(plain: str, emphasised: str) -> bytes:
    """One line whose second part is fake bold: every glyph drawn twice, 0.4 pt apart, in the
    regular face, as some writers do for a font that has no bold face."""
    from reportlab.pdfgen import canvas

    _register_fonts()
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=(_PAGE_W, _PAGE_H))
    pdf.setFont(REGULAR_FONT, _SIZE)
    x, y = _MARGIN, _PAGE_H - _MARGIN
    pdf.drawString(x, y, plain)
    x += _regular_width(plain)
    for dx in (0.0, 0.4):
        pdf.drawString(x + dx, y, emphasised)
    pdf.save()
    return out.getvalue()


def _regular_width(text: str) -> float:
    return sum(_char_width(ch, REGULAR_FONT) for ch in text)


def build_scanned_pdf() -> bytes:
    """A PDF like a scan: one page holding only an image, no text layer."""
    from PIL import Image, ImageDraw
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    image = Image.new("L", (200, 280), 255)
    draw = ImageDraw.Draw(image)
    for y in range(20, 260, 12):
        draw.line((20, y, 180, y), fill=0, width=3)  # strokes standing in for printed lines
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=(_PAGE_W, _PAGE_H))
    pdf.drawImage(ImageReader(image), 0, 0, _PAGE_W, _PAGE_H)
    pdf.save()
    return out.getvalue()


def build_corrupt_docx(text: str = "损坏的文件") -> bytes:
    """A docx cut short, as an interrupted upload leaves it: the zip's directory is gone."""
    data = build_docx(text)
    return data[: len(data) // 2]


def build_corrupt_pdf() -> bytes:
    """A PDF header followed by bytes that are not PDF objects."""
    return b"%PDF-1.7\n" + bytes(range(256)) * 8 + b"\n%%EOF\n"


def build_ole_encrypted_office() -> bytes:
    """The start of a password-protected docx: an OLE compound file naming its encryption streams.

    Not a complete compound file, just what identifies one: the OLE signature, and directory
    entries (UTF-16LE names, 128 bytes each) for EncryptionInfo and EncryptedPackage.
    """
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16) + b"\x3e\x00\x03\x00\xfe\xff\x09\x00"
    header = header.ljust(512, b"\x00")

    def entry(name: str) -> bytes:
        encoded = name.encode("utf-16-le") + b"\x00\x00"
        return (encoded.ljust(64, b"\x00") + len(encoded).to_bytes(2, "little") + b"\x02").ljust(128, b"\x00")

    directory = entry("Root Entry") + entry("EncryptionInfo") + entry("EncryptedPackage")
    return header + directory.ljust(512, b"\x00")


def build_zip(members: dict[str, bytes]) -> bytes:
    """A plain zip archive, not a Word document."""
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return out.getvalue()


def build_docx_bad_member(damage: str = "deflate") -> bytes:
    """A docx whose zip directory is intact but a member cannot be inflated.

    damage="deflate": the first member's compressed stream opens with a reserved block type
    (zlib.error); damage="method": every member claims compression method 99 (AES), which
    zipfile does not implement (NotImplementedError).
    """
    data = bytearray(build_docx("一、总体要求\n1.测试任务。"))
    if damage == "deflate":
        name_len = int.from_bytes(data[26:28], "little")
        extra_len = int.from_bytes(data[28:30], "little")
        data[30 + name_len + extra_len] = 0xFF  # BFINAL=1, BTYPE=11: invalid block type
        return bytes(data)
    for signature, offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        at = data.find(signature)
        while at >= 0:
            data[at + offset : at + offset + 2] = (99).to_bytes(2, "little")
            at = data.find(signature, at + 4)
    return bytes(data)
