"""PDF notices: lines rebuilt from characters in reading order, bold from font names."""

from __future__ import annotations

import bisect
import contextlib
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from services.ingest.parsing.errors import NoticeParseError
from services.ingest.parsing.readers.segments import Segment, reader_error, render, table_row, too_complex

# Font names that mean a bold face: explicit weights, Acrobat's ",Bold" suffix, and 黑体 (Hei)
# families, which Chinese official documents use for emphasis. YaHei is a regular-weight UI face
# and Heisei is a Japanese Mincho family, so they do not count as Hei.
_BOLD_FONT = re.compile(
    r"bold|black|heavy|,b$|-bd$|(?<!ya)hei(?!sei)|黑|fzht|fzdht|fzzh|simhei|zhongyi",
    re.IGNORECASE,
)


@lru_cache(maxsize=512)
def is_bold_font(fontname: str) -> bool:
    name = fontname.split("+", 1)[-1] if "+" in fontname[:8] else fontname
    if not name.isascii():
        # Names written in GBK arrive as Latin-1 mojibake from pdfminer; recover the Chinese.
        with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
            name = name.encode("latin-1").decode("gbk")
    return _BOLD_FONT.search(name) is not None


def _is_cjk(ch: str) -> bool:
    return ch >= "\u2e80"


@dataclass
class _Line:
    top: float
    bottom: float
    x0: float
    x1: float
    size: float
    segments: list[Segment]


# The PDF specification (Annex D, WinAnsiEncoding note) maps every unused code above 40 octal to
# the bullet; writers such as reportlab use 0x7F for "•", which pdfminer leaves unmapped.
_WINANSI_BULLET_CODES = {"(cid:127)", "(cid:129)", "(cid:141)", "(cid:143)", "(cid:144)", "(cid:157)"}
_STANDARD_TEXT_FONTS = ("Helvetica", "Times", "Courier", "Arial")


def _pdf_char_text(ch: dict[str, Any]) -> str:
    text = ch["text"]
    if not text.startswith("(cid:"):
        return text
    if text in _WINANSI_BULLET_CODES and str(ch.get("fontname", "")).startswith(_STANDARD_TEXT_FONTS):
        return "•"
    # Any other "(cid:123)" is a glyph pdfminer cannot map to Unicode; it carries no text.
    return ""


def _group_lines(chars: Sequence[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Chars into visual lines: a char belongs to the line its vertical centre falls in."""
    ordered = sorted(chars, key=lambda c: (c["top"], c["x0"]))
    lines: list[list[dict[str, Any]]] = []
    band_top = band_bottom = -1.0
    for ch in ordered:
        mid = (ch["top"] + ch["bottom"]) / 2
        if lines and band_top <= mid <= band_bottom:
            lines[-1].append(ch)
        else:
            lines.append([ch])
            band_top, band_bottom = ch["top"], ch["bottom"]
    for line in lines:
        line.sort(key=lambda c: c["x0"])
    return lines


def _line_from_chars(chars: list[dict[str, Any]]) -> _Line:
    segments: list[Segment] = []
    prev: dict[str, Any] | None = None
    prev_text = ""
    sizes = sorted(c["size"] for c in chars)
    size = sizes[len(sizes) // 2] or 10.0
    for ch in chars:
        text = _pdf_char_text(ch)
        if not text:
            continue
        bold = is_bold_font(ch["fontname"])
        if prev is not None:
            gap = ch["x0"] - prev["x1"]
            if (
                text == prev_text
                and abs(ch["x0"] - prev["x0"]) < 0.25 * size
                and abs(ch["top"] - prev["top"]) < 0.25 * size
            ):
                # The same glyph drawn again a hair to the side is how some writers fake bold.
                if text.strip():
                    segments[-1] = (segments[-1][0], True)
                continue
            if text[0].isspace() or prev_text[-1].isspace():
                pass
            elif gap > size or (gap > 0.2 * size and not (_is_cjk(text[0]) and _is_cjk(prev_text[-1]))):
                # Justified Chinese has gaps between characters that are not spaces; only a
                # full-em gap, or a gap next to Latin text, is a word break.
                segments.append((" ", False))
        segments.append((text, bold))
        prev, prev_text = ch, text
    x0 = min(c["x0"] for c in chars)
    x1 = max(c["x1"] for c in chars)
    return _Line(chars[0]["top"], chars[0]["bottom"], x0, x1, size, segments)


def _lines(chars: Sequence[dict[str, Any]]) -> list[_Line]:
    return [_line_from_chars(group) for group in _group_lines(chars)]


def _render_lines(lines: Sequence[_Line], right: float) -> list[str]:
    """Lines to text; a bold span that a full line wraps onto the next stays one span."""
    out: list[str] = []
    group: list[Segment] = []
    for i, line in enumerate(lines):
        group.extend(line.segments)
        wrapped = line.x1 >= right - 1.5 * line.size
        if wrapped and i + 1 < len(lines):
            group.append(("\n", False))
        else:
            out.extend(render(group).split("\n") if group else [""])
            group = []
    if group:
        out.extend(render(group).split("\n"))
    return out


@dataclass
class _Table:
    top: float
    rows: list[list[tuple[float, float, float, float] | None]]
    bbox: tuple[float, float, float, float]


def _page_tables(page: Any) -> list[_Table]:
    # Table finding is the slowest step of all; a page with no ruling lines cannot have a
    # lined table, so skip it there.
    if len(page.edges) < 4:
        return []
    tables: list[_Table] = []
    for table in page.find_tables():
        rows = [list(row.cells) for row in table.rows]
        if len(rows) < 2 and max((len(r) for r in rows), default=0) < 2:
            continue  # a frame around text, not a table
        tables.append(_Table(table.bbox[1], rows, table.bbox))
    return tables


def _cell_at(rows: Sequence[Sequence[Any]], r: int, x: float, y: float) -> tuple[int, int] | None:
    if not 0 <= r < len(rows):
        return None
    for c, box in enumerate(rows[r]):
        if box is not None and box[0] <= x <= box[2] and box[1] <= y <= box[3]:
            return (r, c)
    return None


def _scan_cells(rows: Sequence[Sequence[Any]], x: float, y: float) -> tuple[int, int] | None:
    # Only for a char in a cell merged down from a row above: rare, so a full scan is affordable.
    for r in range(len(rows)):
        if key := _cell_at(rows, r, x, y):
            return key
    return None


def _inside(ch: dict[str, Any], bbox: tuple[float, float, float, float]) -> bool:
    x = (ch["x0"] + ch["x1"]) / 2
    y = (ch["top"] + ch["bottom"]) / 2
    return bbox[0] <= x <= bbox[2] and bbox[1] <= y <= bbox[3]


def _table_rows(table: _Table, chars: list[dict[str, Any]]) -> list[str]:
    """Cells' text as `| a | b |` rows; a merged cell is read once (pdfplumber gives None for the rest)."""
    content: dict[tuple[int, int], list[dict[str, Any]]] = {}
    row_tops = [min((b[1] for b in row if b is not None), default=0.0) for row in table.rows]
    for ch in chars:
        x = (ch["x0"] + ch["x1"]) / 2
        y = (ch["top"] + ch["bottom"]) / 2
        r = bisect.bisect_right(row_tops, y) - 1
        key = _cell_at(table.rows, r, x, y) or _scan_cells(table.rows, x, y)
        if key is not None:
            content.setdefault(key, []).append(ch)
    rows: list[str] = []
    for r, row in enumerate(table.rows):
        texts = []
        for c, box in enumerate(row):
            if box is None:
                continue
            lines = _lines(content.get((r, c), []))
            segs: list[Segment] = []
            for line in lines:
                segs.extend(line.segments)
            texts.append(render(segs))
        if any(t.strip() for t in texts):
            rows.append(table_row(texts))
    return rows


def _page_text(page: Any) -> list[str]:
    chars = [c for c in page.chars if c.get("upright", True)] or list(page.chars)
    tables = _page_tables(page)
    in_table: list[list[dict[str, Any]]] = [[] for _ in tables]
    body: list[dict[str, Any]] = []
    for ch in chars:
        for i, table in enumerate(tables):
            if _inside(ch, table.bbox):
                in_table[i].append(ch)
                break
        else:
            body.append(ch)
    lines = _lines(body)
    right = max((line.x1 for line in lines), default=0.0)
    # Lines and tables interleave by their position on the page.
    blocks: list[tuple[float, list[str]]] = []
    run: list[_Line] = []
    table_iter = sorted(zip(tables, in_table, strict=True), key=lambda t: t[0].top)
    t_index = 0
    for line in lines:
        while t_index < len(table_iter) and table_iter[t_index][0].top < line.top:
            if run:
                blocks.append((run[0].top, _render_lines(run, right)))
                run = []
            table, tchars = table_iter[t_index]
            blocks.append((table.top, _table_rows(table, tchars)))
            t_index += 1
        run.append(line)
    if run:
        blocks.append((run[0].top, _render_lines(run, right)))
    for table, tchars in table_iter[t_index:]:
        blocks.append((table.top, _table_rows(table, tchars)))
    return [text for _, texts in blocks for text in texts]


def read_pdf(data: bytes) -> str:
    """Pages in order, each as lines rebuilt from its characters, tables as `| … |` rows."""
    import pdfplumber
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
    from pdfplumber.utils.exceptions import PdfminerException

    def classify(exc: BaseException) -> NoticeParseError:
        cause = exc.args[0] if isinstance(exc, PdfminerException) and exc.args else exc
        if isinstance(cause, MemoryError):
            # Under the sandbox's address-space cap: a stream that inflates past it (a PDF bomb).
            return too_complex("PDF 内容展开后超出内存上限", "the PDF's content inflates past the memory limit")
        if isinstance(cause, (PDFPasswordIncorrect, PDFEncryptionError)):
            return reader_error("encrypted", "PDF 已加密，无法读取，请去掉密码后重新上传", "the PDF is encrypted")
        return reader_error("corrupt", "PDF 文件已损坏，无法读取", "the PDF file is corrupt")

    lines: list[str] = []
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            for page in pdf.pages:
                lines.extend(_page_text(page))
                # Pages cache their parsed objects; drop them so a long PDF stays small in memory.
                page.close()
    except (NoticeParseError, MemoryError):
        raise  # running out of memory is the file's size, which the sandbox reports, not damage
    except Exception as exc:  # pdfminer raises many kinds (PSEOF, KeyError, TypeError…) on bad input
        raise classify(exc) from exc
    return "\n".join(lines)
