"""Turn an uploaded notice file (txt, md, docx, pdf) into text with bold marked `**…**`.

Bold matters in these notices ("黑体为主办单位": units set in bold host the task), so every
reader keeps it, in one markdown convention, and everything downstream reads only that text.
Pure: bytes in, str out, no network, no files.
"""

from __future__ import annotations

import codecs
import io
import zipfile
from pathlib import PurePath
from typing import Literal

from services.ingest.parsing.errors import NoticeParseError
from services.ingest.parsing.readers.docx import read_docx
from services.ingest.parsing.readers.pdf import is_bold_font, read_pdf
from services.ingest.parsing.readers.segments import reader_error
from services.ingest.parsing.readers.text import decode_text

Kind = Literal["txt", "md", "docx", "pdf"]


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
            raise reader_error("corrupt", "docx 文件已损坏（zip 结构不完整）", "the docx file is corrupt (broken zip)")
        if is_docx is None:
            raise reader_error("corrupt", "压缩文件已损坏", "the zip file is corrupt")
        raise reader_error(
            "unsupported_type",
            "不支持的文件类型：这是 zip 压缩包但不是 Word 文档（docx）",
            "unsupported file type: a zip archive that is not a Word document (docx)",
        )
    if data.startswith(_OLE_MAGIC):
        if _ole_is_encrypted_ooxml(data) or ext in {".docx", ".xlsx", ".pptx"}:
            raise reader_error("encrypted", "文件已加密，无法读取，请去掉密码后重新上传", "the file is encrypted")
        raise reader_error(
            "unsupported_type",
            "不支持旧版 Office 格式（doc/xls），请另存为 docx 或 pdf",
            "unsupported type: legacy Office file (doc/xls); save it as docx or pdf",
        )
    for magic, name in _OTHER_MAGICS:
        if data.startswith(magic):
            raise reader_error("unsupported_type", f"不支持的文件类型：{name}", f"unsupported file type: {name}")
    if ext in (".pdf", ".docx"):
        # The name promises a binary format the bytes do not carry.
        kind = ext[1:]
        raise reader_error("corrupt", f"文件已损坏：不是有效的 {kind} 文件", f"the file is corrupt: not a valid {kind}")
    if ext in _TEXT_EXTENSIONS:
        return _TEXT_EXTENSIONS[ext]
    declared = _CONTENT_TYPES.get((content_type or "").split(";")[0].strip().lower())
    if ext == "" and declared in ("txt", "md"):
        return declared
    if ext == "" and declared is None and _looks_textual(data):
        return "txt"
    raise reader_error(
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
        return reader_error(
            "empty",
            "PDF 中没有可提取的文字（可能是扫描件或图片），请上传带文字层的 PDF，或先做文字识别（OCR）",
            "the PDF has no text layer (probably a scan); upload a text PDF or OCR it first",
        )
    return reader_error("empty", "文件中没有文字内容", "the file contains no text")


__all__ = ["Kind", "decode_text", "detect_kind", "is_bold_font", "read_docx", "read_notice", "read_pdf"]
