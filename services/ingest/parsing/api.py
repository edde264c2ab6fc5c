"""One call from uploaded bytes to a parse: the library entry point of the ingest parser."""

from __future__ import annotations

from proto.notice import ParsedNotice
from services.ingest.parsing.parser import parse_text
from services.ingest.parsing.readers import read_document


def parse_document(data: bytes, filename: str, content_type: str | None = None) -> ParsedNotice:
    """Read and parse a notice; raises `NoticeParseError` for anything it cannot read."""
    read = read_document(data, filename, content_type)
    return parse_text(read.text, source_name=filename, ocr=read.ocr)
