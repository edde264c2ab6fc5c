"""What runs inside a parse child (see `sandbox.py`); imported by the forkserver ahead of time.

The readers' heavy imports happen here, at import, so that each forked child has them already.
"""

from __future__ import annotations

import resource
from collections.abc import Callable
from multiprocessing.connection import Connection

import docx  # noqa: F401  (preloaded for the children)
import pdfplumber  # noqa: F401  (preloaded for the children)

from proto.notice import ParsedNotice
from services.ingest.parsing.api import parse_document
from services.ingest.parsing.errors import NoticeParseError


def run(
    out: Connection,
    memory_mb: int,
    data: bytes,
    filename: str,
    content_type: str | None,
    parse: Callable[[bytes, str, str | None], ParsedNotice] | None = None,
) -> None:
    """Parse under the memory cap and send back ("ok", json) or ("error", code, message)."""
    cap = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    try:
        parsed = (parse or parse_document)(data, filename, content_type)
        outcome: tuple[str, ...] = ("ok", parsed.model_dump_json())
    except NoticeParseError as exc:
        outcome = ("error", exc.code, exc.message)
    except (MemoryError, RecursionError):
        outcome = ("error", "too_complex", _message(f"解析时超出 {memory_mb} MB 内存上限", "parsing ran out of memory"))
    except Exception as exc:  # a reader bug on odd input must still come back as a 4xx, never a 500
        outcome = ("error", "unreadable", f"无法读取该文件 / the file could not be read ({type(exc).__name__})")
    del data
    out.send(outcome)
    out.close()


def _message(zh: str, en: str) -> str:
    return f"文件过于复杂，无法处理：{zh} / the file is too complex to process: {en}"
