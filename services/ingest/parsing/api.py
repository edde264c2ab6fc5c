"""One call from uploaded bytes to a parse: the library entry point of the ingest parser."""

from __future__ import annotations

from proto.notice import ParsedNotice
from services.ingest.parsing.parser import parse_text
from services.ingest.parsing.readers import read_notice


def parse_document(data: bytes, filename: str, content_type: str | None = None) -> ParsedNotice:
    """Read and parse a notice; raises `NoticeParseError` for anything it cannot read."""
    return parse_text(read_notice(data, filename, content_type), source_name=filename)
