"""Word (.docx) notices: paragraphs and tables in body order, bold runs kept as `**…**`."""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from services.ingest.parsing.errors import NoticeParseError
from services.ingest.parsing.readers.segments import (
    Segment,
    cell_separator,
    reader_error,
    render,
    table_row,
    too_complex,
)
from services.ingest.parsing.readers.zipguard import check_zip

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
            zf.getinfo("word/document.xml")
            check_zip(zf)
        document = docx.Document(io.BytesIO(data))
        styles_el = document.styles.element
    except NoticeParseError:
        raise
    except ValueError as exc:
        # python-docx refuses docm/dotx and other non-document Word parts by content type.
        if "not a Word file" in str(exc):
            raise reader_error("unsupported_type", "不是 Word 文档（docx）", "not a Word document (docx)") from exc
        raise reader_error("corrupt", "docx 文件已损坏", "the docx file is corrupt") from exc
    except XMLSyntaxError as exc:
        # libxml2's own guards (depth over 256, entity amplification) are the file's complexity, not damage.
        if "depth" in str(exc) or "amplification" in str(exc):
            raise too_complex("XML 嵌套过深或实体展开过多", "XML nested too deeply or expanding too far") from exc
        raise reader_error("corrupt", "docx 文件已损坏", "the docx file is corrupt") from exc
    # zlib.error: a damaged deflate stream; NotImplementedError: a compression method zipfile lacks.
    except (
        zipfile.BadZipFile,
        KeyError,
        PackageNotFoundError,
        OSError,
        EOFError,
        zlib.error,
        NotImplementedError,
    ) as exc:
        raise reader_error("corrupt", "docx 文件已损坏", "the docx file is corrupt") from exc
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
        cells: list[str] = []
        for tc in _iter_children(tr, _W_TC):
            cells.append(render(_cell_segments(tc, styles)))
            # A cell merged across columns keeps them: the rows of a table stay aligned.
            cells.extend([""] * (_grid_span(tc) - 1))
        if any(c.strip() for c in cells):
            rows.append(table_row(cells))
    return rows


def _grid_span(tc: Any) -> int:
    tcpr = tc.find(_W_TCPR)
    span = tcpr.find(f"{_W}gridSpan") if tcpr is not None else None
    value = span.get(_W_VAL, "1") if span is not None else "1"
    return min(int(value), 64) if value.isdigit() and int(value) > 0 else 1


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
    paragraphs = [_paragraph_segments(p, styles) for p in _iter_blocks(tc) if p.tag == _W_P]
    separator = cell_separator(["".join(t for t, _b in p) for p in paragraphs])
    for block in _iter_blocks(tc):
        if block.tag == _W_P:
            if separator and segments and any(t.strip() for t, _b in segments):
                segments.append((separator, False))
            segments.extend(_paragraph_segments(block, styles))
        else:
            for tr in _iter_children(block, _W_TR):
                for inner in _iter_children(tr, _W_TC):
                    segments.extend(_cell_segments(inner, styles))
    return segments
