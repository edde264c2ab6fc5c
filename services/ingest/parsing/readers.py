"""Turn an uploaded notice file (txt, md, docx, pdf) into text with bold marked `**…**`.

Bold matters in these notices ("黑体为主办单位": units set in bold host the task), so every
reader keeps it, in one markdown convention, and everything downstream reads only that text.
Pure: bytes in, str out, no network, no files.
"""

from __future__ import annotations

import bisect
import codecs
import contextlib
import io
import re
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import PurePath
from typing import Any, Literal

from services.ingest.parsing.errors import NoticeParseError

Kind = Literal["txt", "md", "docx", "pdf"]

# A run of text and whether it is bold; the unit every reader produces before rendering.
Segment = tuple[str, bool]

_TEXT_EXTENSIONS: dict[str, Kind] = {".txt": "txt", ".text": "txt", ".md": "md", ".markdown": "md"}
_CONTENT_TYPES: dict[str, Kind] = {
    "text/plain": "txt",
    "text/markdown": "md",
    "text/x-markdown": "md",
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
}
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
# Formats people upload by mistake; named so the error says what the file is.
_OTHER_MAGICS: tuple[tuple[bytes, str], ...] = (
    (b"{\\rtf", "RTF"),
    (b"\x89PNG", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF8", "GIF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"Rar!", "RAR"),
    (b"7z\xbc\xaf", "7z"),
    (b"\x1f\x8b", "gzip"),
    (b"\x7fELF", "ELF"),
    (b"MZ", "EXE"),
)
# A zip bomb posing as a docx must not take the machine's memory.
_MAX_DOCUMENT_XML = 512 * 1024 * 1024


def _error(code: str, zh: str, en: str) -> NoticeParseError:
    return NoticeParseError(code, f"{zh} / {en}")


def _extension(filename: str) -> str:
    return PurePath(filename or "").suffix.lower()


def _looks_like_zip_docx(data: bytes) -> bool | None:
    """True for a zip holding word/document.xml, False for another zip, None if the zip is broken."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return None
    return "word/document.xml" in names


def _ole_is_encrypted_ooxml(data: bytes) -> bool:
    # An encrypted docx/xlsx is an OLE file whose directory names these streams (UTF-16LE).
    return "EncryptedPackage".encode("utf-16-le") in data or "EncryptionInfo".encode("utf-16-le") in data


def detect_kind(data: bytes, filename: str, content_type: str | None = None) -> Kind:
    """Decide how to read a file from its first bytes, then its name, then the declared type.

    Content wins over the name when the content is unambiguous (a PDF named .docx is read as a
    PDF), since uploads are often misnamed; the name decides only among text formats.
    """
    ext = _extension(filename)
    # Readers accept a PDF header a little way in (some writers put junk first); only trust
    # that when the name agrees, so a text file quoting "%PDF" stays text.
    if data.startswith(b"%PDF") or (ext == ".pdf" and b"%PDF-" in data[:1024]):
        return "pdf"
    if data.startswith(_ZIP_MAGICS):
        is_docx = _looks_like_zip_docx(data)
        if is_docx:
            return "docx"
        if is_docx is None and (ext == ".docx" or (ext == "" and content_type in _CONTENT_TYPES)):
            raise _error("corrupt", "docx 文件已损坏（zip 结构不完整）", "the docx file is corrupt (broken zip)")
        if is_docx is None:
            raise _error("corrupt", "压缩文件已损坏", "the zip file is corrupt")
        raise _error(
            "unsupported_type",
            "不支持的文件类型：这是 zip 压缩包但不是 Word 文档（docx）",
            "unsupported file type: a zip archive that is not a Word document (docx)",
        )
    if data.startswith(_OLE_MAGIC):
        if _ole_is_encrypted_ooxml(data) or ext in {".docx", ".xlsx", ".pptx"}:
            raise _error("encrypted", "文件已加密，无法读取，请去掉密码后重新上传", "the file is encrypted")
        raise _error(
            "unsupported_type",
            "不支持旧版 Office 格式（doc/xls），请另存为 docx 或 pdf",
            "unsupported type: legacy Office file (doc/xls); save it as docx or pdf",
        )
    for magic, name in _OTHER_MAGICS:
        if data.startswith(magic):
            raise _error("unsupported_type", f"不支持的文件类型：{name}", f"unsupported file type: {name}")
    if ext in (".pdf", ".docx"):
        # The name promises a binary format the bytes do not carry.
        kind = ext[1:]
        raise _error("corrupt", f"文件已损坏：不是有效的 {kind} 文件", f"the file is corrupt: not a valid {kind}")
    if ext in _TEXT_EXTENSIONS:
        return _TEXT_EXTENSIONS[ext]
    declared = _CONTENT_TYPES.get((content_type or "").split(";")[0].strip().lower())
    if ext == "" and declared in ("txt", "md"):
        return declared
    if ext == "" and declared is None and _looks_textual(data):
        return "txt"
    raise _error(
        "unsupported_type",
        f"不支持的文件类型（{ext or '无扩展名'}）：请上传 txt、md、docx 或 pdf",
        f"unsupported file type ({ext or 'no extension'}): upload txt, md, docx or pdf",
    )


def _looks_textual(data: bytes) -> bool:
    sample = data[:4096]
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return True
    return bool(sample) and b"\x00" not in sample


def read_notice(data: bytes, filename: str, content_type: str | None = None) -> str:
    """The notice's text, lines separated by "\\n", bold runs as `**…**`.

    Raises NoticeParseError with code unsupported_type, corrupt, encrypted or empty.
    """
    kind = detect_kind(data, filename, content_type)
    if kind == "pdf":
        text = read_pdf(data)
    elif kind == "docx":
        text = read_docx(data)
    else:
        text = decode_text(data)
    if not text.replace("*", "").strip():
        raise _empty_error(kind)
    return text


def _empty_error(kind: Kind) -> NoticeParseError:
    if kind == "pdf":
        return _error(
            "empty",
            "PDF 中没有可提取的文字（可能是扫描件或图片），请上传带文字层的 PDF，或先做文字识别（OCR）",
            "the PDF has no text layer (probably a scan); upload a text PDF or OCR it first",
        )
    return _error("empty", "文件中没有文字内容", "the file contains no text")


# ---------------------------------------------------------------- text


def decode_text(data: bytes) -> str:
    """Decode a plain-text notice: UTF-8 (BOM or not), UTF-16 with BOM, GB18030/GBK, else guess."""
    text = _decode(data)
    if "\x00" in text:
        raise _error("unsupported_type", "不是文本文件（含二进制内容）", "not a text file (binary content)")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _decode(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise _error("corrupt", "UTF-16 文本已损坏", "the UTF-16 text is corrupt") from exc
    # Strict UTF-8 first: valid UTF-8 Chinese is almost never valid GB18030 and vice versa,
    # and statistical guessing on short Chinese text is the least reliable of the three.
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise _error(
            "unsupported_type", "无法识别文本编码，可能不是文本文件", "unknown text encoding; not a text file?"
        )
    return str(best)


# ---------------------------------------------------------------- segments


def coalesce(segments: Iterable[Segment]) -> list[Segment]:
    """Merge adjacent runs of equal boldness; whitespace between two bold runs joins them."""
    items = [(t, b) for t, b in segments if t]
    for i, (text, _) in enumerate(items):
        if not text.strip() and 0 < i < len(items) - 1:
            # Whitespace has no visible weight: it belongs to the bold span only if it sits inside one.
            items[i] = (text, items[i - 1][1] and items[i + 1][1])
    merged: list[Segment] = []
    for text, bold in items:
        if not text.strip() and bold and not merged:
            bold = False
        if merged and merged[-1][1] == bold:
            merged[-1] = (merged[-1][0] + text, bold)
        else:
            merged.append((text, bold))
    return merged


def render(segments: Iterable[Segment]) -> str:
    """Segments as text, bold as `**…**` with the marks hugging the text (markdown needs that)."""
    out: list[str] = []
    for text, bold in coalesce(segments):
        core = text.strip()
        if not bold or not core:
            out.append(text)
            continue
        start = text.index(core[0])
        end = start + len(core)
        out.append(f"{text[:start]}**{core}**{text[end:]}")
    return "".join(out)


def _table_row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(c.replace("\n", "").replace("|", "\\|").strip() for c in cells) + " |"


# ---------------------------------------------------------------- docx

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_W_P, _W_TBL, _W_TR, _W_TC, _W_R = (f"{_W}{n}" for n in ("p", "tbl", "tr", "tc", "r"))
_W_RPR, _W_PPR, _W_TCPR = f"{_W}rPr", f"{_W}pPr", f"{_W}tcPr"
_W_VAL = f"{_W}val"
# Elements that only wrap paragraphs/runs/rows/cells; their content is read as if inline.
_W_WRAPPERS = frozenset(
    f"{_W}{n}"
    for n in ("sdt", "sdtContent", "customXml", "hyperlink", "ins", "moveTo", "smartTag", "fldSimple", "dir", "bdo")
)
_FALSE_VALUES = frozenset({"0", "false", "off", "none"})


def _onoff(rpr: Any, name: str) -> bool | None:
    """A w:rPr toggle (w:b, w:vanish): True/False when set, None when the level leaves it alone."""
    if rpr is None:
        return None
    el = rpr.find(f"{_W}{name}")
    if el is None:
        return None
    return el.get(_W_VAL, "true").lower() not in _FALSE_VALUES


@dataclass(frozen=True)
class _Styles:
    """Bold as set by each style id, with basedOn resolved, plus the document default."""

    bold: dict[str, bool | None]
    default: bool

    @classmethod
    def from_element(cls, styles_el: Any) -> _Styles:
        own: dict[str, bool | None] = {}
        based_on: dict[str, str] = {}
        default = False
        if styles_el is None:
            return cls({}, False)
        rpr_default = styles_el.find(f"{_W}docDefaults/{_W}rPrDefault/{_W}rPr")
        default = bool(_onoff(rpr_default, "b"))
        for style in styles_el.iterchildren(f"{_W}style"):
            sid = style.get(f"{_W}styleId")
            if not sid:
                continue
            own[sid] = _onoff(style.find(_W_RPR), "b")
            parent = style.find(f"{_W}basedOn")
            if parent is not None and parent.get(_W_VAL):
                based_on[sid] = parent.get(_W_VAL)
        resolved: dict[str, bool | None] = {}
        for sid in own:
            seen: set[str] = set()
            cur: str | None = sid
            value: bool | None = None
            while cur is not None and cur not in seen and value is None:
                seen.add(cur)
                value = own.get(cur)
                cur = based_on.get(cur)
            resolved[sid] = value
        return cls(resolved, default)

    def of(self, style_id: str | None) -> bool | None:
        return self.bold.get(style_id) if style_id else None


def read_docx(data: bytes) -> str:
    """Body paragraphs and tables in document order; headers, footers and notes are left out."""
    body, styles = _open_docx(data)
    lines: list[str] = []
    for block in _iter_blocks(body):
        if block.tag == _W_P:
            lines.append(render(_paragraph_segments(block, styles)))
        else:
            lines.extend(_docx_table_rows(block, styles))
    return "\n".join(lines)


def _open_docx(data: bytes) -> tuple[Any, _Styles]:
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from lxml.etree import XMLSyntaxError

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            info = zf.getinfo("word/document.xml")
        if info.file_size > _MAX_DOCUMENT_XML:
            raise _error("corrupt", "docx 正文过大，疑似损坏", "the docx body is implausibly large")
        document = docx.Document(io.BytesIO(data))
        styles_el = document.styles.element
    except NoticeParseError:
        raise
    except ValueError as exc:
        # python-docx refuses docm/dotx and other non-document Word parts by content type.
        if "not a Word file" in str(exc):
            raise _error("unsupported_type", "不是 Word 文档（docx）", "not a Word document (docx)") from exc
        raise _error("corrupt", "docx 文件已损坏", "the docx file is corrupt") from exc
    # zlib.error: a damaged deflate stream; NotImplementedError: a compression method zipfile lacks.
    except (
        zipfile.BadZipFile,
        KeyError,
        PackageNotFoundError,
        XMLSyntaxError,
        OSError,
        EOFError,
        zlib.error,
        NotImplementedError,
    ) as exc:
        raise _error("corrupt", "docx 文件已损坏", "the docx file is corrupt") from exc
    return document.element.body, _Styles.from_element(styles_el)


def _iter_blocks(container: Any) -> Iterator[Any]:
    """Paragraphs and tables of a body or cell in order, seeing through content controls."""
    for child in container.iterchildren():
        tag = child.tag
        if tag in (_W_P, _W_TBL):
            yield child
        elif tag in _W_WRAPPERS:
            yield from _iter_blocks(child)


def _iter_runs(el: Any) -> Iterator[Any]:
    # Deleted (w:del, w:moveFrom) text and run properties are skipped by not descending into them.
    for child in el.iterchildren():
        if child.tag == _W_R:
            yield child
        elif child.tag in _W_WRAPPERS:
            yield from _iter_runs(child)


_RUN_TEXT = {
    f"{_W}tab": "\t",
    f"{_W}br": "\n",
    f"{_W}cr": "\n",
    f"{_W}noBreakHyphen": "-",
}


def _run_text(run: Any) -> str:
    parts: list[str] = []
    for child in run.iterchildren():
        tag = child.tag
        if tag == f"{_W}t":
            parts.append(child.text or "")
        elif tag in _RUN_TEXT:
            parts.append(_RUN_TEXT[tag])
    return "".join(parts)


def _paragraph_segments(p: Any, styles: _Styles) -> list[Segment]:
    ppr = p.find(_W_PPR)
    pstyle_el = ppr.find(f"{_W}pStyle") if ppr is not None else None
    para_bold = styles.of(pstyle_el.get(_W_VAL) if pstyle_el is not None else None)
    base = styles.default if para_bold is None else para_bold
    segments: list[Segment] = []
    for run in _iter_runs(p):
        rpr = run.find(_W_RPR)
        if _onoff(rpr, "vanish"):
            continue
        bold = _onoff(rpr, "b")
        if bold is None and rpr is not None:
            rstyle = rpr.find(f"{_W}rStyle")
            bold = styles.of(rstyle.get(_W_VAL) if rstyle is not None else None)
        segments.append((_run_text(run), base if bold is None else bold))
    return segments


def _docx_table_rows(tbl: Any, styles: _Styles) -> list[str]:
    rows: list[str] = []
    for tr in _iter_children(tbl, _W_TR):
        cells = [render(_cell_segments(tc, styles)) for tc in _iter_children(tr, _W_TC)]
        if any(c.strip() for c in cells):
            rows.append(_table_row(cells))
    return rows


def _iter_children(el: Any, tag: str) -> Iterator[Any]:
    for child in el.iterchildren():
        if child.tag == tag:
            yield child
        elif child.tag in _W_WRAPPERS:
            yield from _iter_children(child, tag)


def _cell_segments(tc: Any, styles: _Styles) -> list[Segment]:
    tcpr = tc.find(_W_TCPR)
    vmerge = tcpr.find(f"{_W}vMerge") if tcpr is not None else None
    if vmerge is not None and vmerge.get(_W_VAL) != "restart":
        # A continuation of a vertically merged cell: its text is in the cell above.
        return []
    segments: list[Segment] = []
    for block in _iter_blocks(tc):
        if block.tag == _W_P:
            segments.extend(_paragraph_segments(block, styles))
        else:
            for tr in _iter_children(block, _W_TR):
                for inner in _iter_children(tr, _W_TC):
                    segments.extend(_cell_segments(inner, styles))
    return segments


# ---------------------------------------------------------------- pdf

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
            rows.append(_table_row(texts))
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
        if isinstance(cause, (PDFPasswordIncorrect, PDFEncryptionError)):
            return _error("encrypted", "PDF 已加密，无法读取，请去掉密码后重新上传", "the PDF is encrypted")
        return _error("corrupt", "PDF 文件已损坏，无法读取", "the PDF file is corrupt")

    lines: list[str] = []
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            for page in pdf.pages:
                lines.extend(_page_text(page))
                # Pages cache their parsed objects; drop them so a long PDF stays small in memory.
                page.close()
    except NoticeParseError:
        raise
    except Exception as exc:  # pdfminer raises many kinds (PSEOF, KeyError, TypeError…) on bad input
        raise classify(exc) from exc
    return "\n".join(lines)
