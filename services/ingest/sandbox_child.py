"""What runs inside a parse worker (see `sandbox.py`); imported by the forkserver ahead of time.

The readers' heavy imports happen here, at import, so that each forked worker has them already.
"""

from __future__ import annotations

import resource
from collections.abc import Callable
from multiprocessing.connection import Connection

import docx  # noqa: F401  (preloaded for the workers)
import pdfplumber  # noqa: F401  (preloaded for the workers)
import python_calamine  # noqa: F401  (preloaded for the workers)

from proto.notice import ParsedNotice
from services.ingest.parsing.api import parse_document
from services.ingest.parsing.errors import NoticeParseError
from services.ingest.parsing.readers.segments import too_complex

ParseFn = Callable[[bytes, str, str | None], ParsedNotice]


def serve(conn: Connection, memory_mb: int, parse: ParseFn | None = None) -> None:
    """Cap this process's address space, then answer jobs until the parent closes the pipe.

    Each answer is ("ok", json), ("error", code, message), or ("fatal", code, message) after
    which this worker is not trusted again (it ran out of memory mid-parse) and is replaced.
    """
    cap = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    while True:
        try:
            data, filename, content_type = conn.recv()
        except EOFError:
            return
        conn.send(_parse_one(parse or parse_document, data, filename, content_type, memory_mb))
        del data


def _parse_one(parse: ParseFn, data: bytes, filename: str, content_type: str | None, memory_mb: int) -> tuple[str, ...]:
    try:
        return ("ok", parse(data, filename, content_type).model_dump_json())
    except NoticeParseError as exc:
        return ("error", exc.code, exc.message)
    except (MemoryError, RecursionError):
        error = too_complex(f"解析时超出 {memory_mb} MB 内存上限", f"parsing exceeded the {memory_mb} MB memory limit")
        return ("fatal", error.code, error.message)
    except Exception as exc:  # a reader bug on odd input must still come back as a 4xx, never a 500
        return ("error", "unreadable", f"无法读取该文件 / the file could not be read ({type(exc).__name__})")
