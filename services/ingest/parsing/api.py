"""One call from uploaded bytes to a parse: the library entry point of the ingest parser."""

from __future__ import annotations

from proto.notice import ParsedNotice, ParseWarning
from services.ingest.parsing.parser import parse_text
from services.ingest.parsing.readers import read_document

OCR_WARNING = ParseWarning(
    code="ocr", message="任务文字由扫描图像识别（OCR）得到，请核对原文 / text recognised from a scanned image (OCR)"
)


def parse_document(data: bytes, filename: str, content_type: str | None = None) -> ParsedNotice:
    """Read and parse a notice; raises `NoticeParseError` for anything it cannot read."""
    read = read_document(data, filename, content_type)
    parsed = parse_text(read.text, source_name=filename)
    if read.ocr:
        for task in parsed.tasks:
            task.warnings.append(OCR_WARNING)
        parsed.warnings.append(OCR_WARNING)
    return parsed
