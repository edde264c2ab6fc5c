"""Stand-ins for the parser that misbehave, run by the sandbox in its children (pickled by name)."""

from __future__ import annotations

import os
import signal
import time

from proto.notice import ParsedNotice


def hog(data: bytes, filename: str, content_type: str | None) -> ParsedNotice:
    held = [bytearray(64 * 1024 * 1024) for _ in range(64)]  # 4 GB, far past any test's cap
    raise AssertionError(f"allocated {len(held)} blocks under the cap")


def sleeper(data: bytes, filename: str, content_type: str | None) -> ParsedNotice:
    time.sleep(60)
    raise AssertionError("not killed")


def crasher(data: bytes, filename: str, content_type: str | None) -> ParsedNotice:
    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("not dead")


def buggy(data: bytes, filename: str, content_type: str | None) -> ParsedNotice:
    raise KeyError("a reader bug")


def by_content(data: bytes, filename: str, content_type: str | None) -> ParsedNotice:
    """Misbehaves as the bytes say ("hog", "sleep", "crash"), else parses them."""
    from services.ingest.parsing.api import parse_document

    misbehave = {b"hog": hog, b"sleep": sleeper, b"crash": crasher}.get(data)
    return (misbehave or parse_document)(data, filename, content_type)
