"""Turn an uploaded notice file (txt, md, docx, pdf, xlsx, xls, doc, wps) into text with bold marked `**…**`.

Bold matters in these notices ("黑体为主办单位": units set in bold host the task), so every
reader keeps it, in one markdown convention, and everything downstream reads only that text.
Pure: bytes in, str out, no network, no files.
"""

from __future__ import annotations

import codecs
import io
import zipfile
from dataclasses import dataclass
from pathlib import PurePath
from typing import Literal

from services.ingest.parsing.errors import NoticeParseError
from services.ingest.parsing.readers.docx import read_docx
from services.ingest.parsing.readers.external import convert_to_docx, ocr_pdf
from services.ingest.parsing.readers.pdf import is_bold_font, read_pdf
from services.ingest.parsing.readers.segments import reader_error
from services.ingest.parsing.readers.sheet import read_sheet
from services.ingest.parsing.readers.text import decode_text

Kind = Literal["txt", "md", "docx", "pdf", "xlsx", "xls", "doc"]


_TEXT_EXTENSIONS: dict[str, Kind] = {".txt": "txt", ".text": "txt", ".md": "md", ".markdown": "md"}
_CONTENT_TYPES: dict[str, Kind] = {
    "text/plain": "txt",
    "text/markdown": "md",
    "text/x-markdown": "md",
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.ms-excel": "xls",
    "application/msword": "doc",
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


def _zip_kind(data: bytes) -> Kind | bool | None:
    """docx or xlsx for a zip holding a Word or Excel part, False for another zip, None if broken."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return None
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    return False


def _ole_kind(data: bytes) -> Kind | None:
    """doc (Word 97, also WPS) or xls from the stream names in an OLE file's directory."""
    if "WordDocument".encode("utf-16-le") in data:
        return "doc"
    if "Workbook".encode("utf-16-le") in data or "Book".encode("utf-16-le") in data:
        return "xls"
    return None


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
        zip_kind = _zip_kind(data)
        if zip_kind:
            return zip_kind
        if zip_kind is None and (ext in (".docx", ".xlsx") or (ext == "" and content_type in _CONTENT_TYPES)):
            kind = ext[1:] or "docx"
            raise reader_error(
                "corrupt", f"{kind} 文件已损坏（zip 结构不完整）", f"the {kind} file is corrupt (broken zip)"
            )
        if zip_kind is None:
            raise reader_error("corrupt", "压缩文件已损坏", "the zip file is corrupt")
        raise reader_error(
            "unsupported_type",
            "不支持的文件类型：这是 zip 压缩包但不是 Word 文档（docx）或 Excel 表格（xlsx）",
            "unsupported file type: a zip archive that is not a Word document (docx) or a workbook (xlsx)",
        )
    if data.startswith(_OLE_MAGIC):
        if _ole_is_encrypted_ooxml(data) or ext in {".docx", ".xlsx", ".pptx"}:
            raise reader_error("encrypted", "文件已加密，无法读取，请去掉密码后重新上传", "the file is encrypted")
        ole_kind = _ole_kind(data)
        if ole_kind is not None:
            return ole_kind
        raise reader_error(
            "unsupported_type",
            "不支持的 Office 文件（不是 doc、wps 或 xls）",
            "unsupported Office file (not a doc, wps or xls)",
        )
    for magic, name in _OTHER_MAGICS:
        if data.startswith(magic):
            raise reader_error("unsupported_type", f"不支持的文件类型：{name}", f"unsupported file type: {name}")
    if ext in (".pdf", ".docx", ".xlsx", ".xls", ".doc", ".wps"):
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
        f"不支持的文件类型（{ext or '无扩展名'}）：请上传 txt、md、docx、doc、wps、xlsx、xls 或 pdf",
        f"unsupported file type ({ext or 'no extension'}): upload txt, md, docx, doc, wps, xlsx, xls or pdf",
    )


def _looks_textual(data: bytes) -> bool:
    sample = data[:4096]
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return True
    return bool(sample) and b"\x00" not in sample


@dataclass(frozen=True)
class ReadText:
    text: str
    kind: Kind
    ocr: bool = False  # the text was recognised from page images, not extracted


def read_notice(data: bytes, filename: str, content_type: str | None = None) -> str:
    """The notice's text, lines separated by "\\n", bold runs as `**…**`.

    Raises NoticeParseError with code unsupported_type, corrupt, encrypted, empty or converter_missing.
    """
    return read_document(data, filename, content_type).text


def read_document(data: bytes, filename: str, content_type: str | None = None) -> ReadText:
    """Like `read_notice`, saying also how the text was got (OCR of a scanned PDF)."""
    kind = detect_kind(data, filename, content_type)
    ocr = False
    if kind == "pdf":
        text = read_pdf(data)
        if not text.replace("*", "").strip():
            text, ocr = ocr_pdf(data), True
    elif kind == "docx":
        text = read_docx(data)
    elif kind == "doc":
        text = read_docx(convert_to_docx(data, _extension(filename) if _extension(filename) == ".wps" else ".doc"))
    elif kind in ("xlsx", "xls"):
        text = read_sheet(data, is_zip=kind == "xlsx")
    else:
        text = decode_text(data)
    if not text.replace("*", "").strip():
        raise _empty_error(kind)
    return ReadText(text, kind, ocr)


def _empty_error(kind: Kind) -> NoticeParseError:
    if kind == "pdf":
        return reader_error(
            "empty",
            "PDF 中没有可提取的文字，按扫描件做文字识别（OCR）也未识别出文字，请上传带文字层的 PDF",
            "the PDF has no text layer and OCR of it as a scan found no text; upload a text PDF",
        )
    return reader_error("empty", "文件中没有文字内容", "the file contains no text")


__all__ = [
    "Kind",
    "ReadText",
    "decode_text",
    "detect_kind",
    "is_bold_font",
    "read_document",
    "read_docx",
    "read_notice",
    "read_pdf",
]
