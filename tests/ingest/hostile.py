"""Hostile files built at test time: zip bombs posing as docx/xlsx and XML bombs inside a docx.

Each is made by streaming into the zip, so building one never holds the inflated content.
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Callable, Iterator

from tests.ingest.builders import build_docx

MB = 1024 * 1024
_W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_DOC_OPEN = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w="{_W_NS}"><w:body>'.encode()
_DOC_CLOSE = b"</w:body></w:document>"

Chunks = Callable[[], Iterator[bytes]]


def _repeat(piece: bytes, total: int) -> Iterator[bytes]:
    block = piece * max(1, MB // len(piece))
    written = 0
    while written < total:
        yield block
        written += len(block)


def _deflated(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def _docx_replacing(name: str, chunks: Chunks) -> bytes:
    """A real docx (python-docx's template) with one member's content streamed in instead."""
    base = zipfile.ZipFile(io.BytesIO(build_docx("一、测试任务。")))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for info in base.infolist():
            if info.filename == name:
                continue
            zf.writestr(info.filename, base.read(info.filename))
        with zf.open(_deflated(name), "w", force_zip64=True) as member:
            for chunk in chunks():
                member.write(chunk)
    return out.getvalue()


def styles_bomb(mb: int = 128) -> bytes:
    """styles.xml of `mb` MB of zeros: a ~130 KB file per 128 MB."""
    return _docx_replacing("word/styles.xml", lambda: _repeat(b"\0", mb * MB))


def empty_paragraphs(mb: int = 64) -> bytes:
    """document.xml holding `mb` MB of `<w:p/>`: well-formed, tiny compressed, millions of elements."""

    def chunks() -> Iterator[bytes]:
        yield _DOC_OPEN
        yield from _repeat(b"<w:p/>", mb * MB)
        yield _DOC_CLOSE

    return _docx_replacing("word/document.xml", chunks)


def billion_laughs() -> bytes:
    """document.xml declaring entities that expand ten-fold per level to 10^9 "lol"s."""
    levels = ['<!ENTITY l0 "lol">'] + [f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10)]
    doc = (
        '<?xml version="1.0"?>\n<!DOCTYPE w:document [' + "".join(levels) + "]>"
        f'<w:document xmlns:w="{_W_NS}"><w:body><w:p><w:r><w:t>&l9;</w:t></w:r></w:p></w:body></w:document>'
    ).encode()
    return _docx_replacing("word/document.xml", lambda: iter([doc]))


def deep_nesting(depth: int = 10_000) -> bytes:
    """document.xml with content controls nested `depth` deep (the reader walks them recursively)."""
    open_ = b"<w:sdt><w:sdtContent>"
    close = b"</w:sdtContent></w:sdt>"
    return _docx_replacing("word/document.xml", lambda: iter([_DOC_OPEN, open_ * depth, close * depth, _DOC_CLOSE]))


def xlsx_bomb(mb: int = 128, *, workbook: bool = False) -> bytes:
    """An xlsx whose one worksheet inflates to `mb` MB of zeros (with `workbook`, one the reader opens)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        if workbook:
            zf.writestr("xl/workbook.xml", "<workbook/>")
        with zf.open(_deflated("xl/worksheets/sheet1.xml"), "w", force_zip64=True) as member:
            for chunk in _repeat(b"\0", mb * MB):
                member.write(chunk)
    return out.getvalue()


def lying_header(mb: int = 40) -> bytes:
    """A docx whose styles.xml inflates to `mb` MB while its central directory claims 100 bytes."""
    data = bytearray(_docx_replacing("word/styles.xml", lambda: _repeat(b"\0", mb * MB)))
    name = b"word/styles.xml"
    at = 0
    while (at := data.find(b"PK\x01\x02", at + 1)) != -1:
        name_len = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46 : at + 46 + name_len] == name:
            break
    # zip64 keeps the real sizes in an extra field; replace the member's whole entry sizes there too.
    extra_len = struct.unpack_from("<H", data, at + 30)[0]
    extra = at + 46 + len(name)
    struct.pack_into("<I", data, at + 24, 100)
    pos = extra
    while pos < extra + extra_len:
        tag, size = struct.unpack_from("<HH", data, pos)
        if tag == 1:
            struct.pack_into("<Q", data, pos + 4, 100)
        pos += 4 + size
    return bytes(data)


def pdf_bomb(mb: int = 512) -> bytes:
    """A one-page PDF whose content stream inflates to `mb` MB: the readers' zip guard does not see it,
    only the sandbox's memory and time limits do."""
    import zlib

    deflater = zlib.compressobj(1)
    block = b" " * MB
    stream = b"".join(deflater.compress(block) for _ in range(mb)) + deflater.flush()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
