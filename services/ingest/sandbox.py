"""Parsing an upload in a child process with a memory and a time limit.

One process serves every service in `luoshi up`; a hostile file parsed there could take its
memory or hold a core for half a minute while status reads from other clients wait. Each parse
runs in its own child forked from a forkserver that has the parser imported already (a fork
costs milliseconds): the child caps its address space (`RLIMIT_AS`) before touching the bytes,
and the parent kills it at the time limit. A child that runs out of memory, dies or overruns is
reported as `too_complex`; nothing it did reaches the database. The calls block, so callers run
them in a worker thread (the upload route is a sync route), never on the event loop.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext
from typing import Any

from proto.notice import ParsedNotice
from services.ingest.parsing.errors import NoticeParseError

_CHILD_MODULE = "services.ingest.sandbox_child"
ParseFn = Callable[[bytes, str, str | None], ParsedNotice]


def _too_complex(zh: str, en: str) -> NoticeParseError:
    return NoticeParseError("too_complex", f"文件过于复杂，无法处理：{zh} / the file is too complex to process: {en}")


class ParseSandbox:
    def __init__(self, *, memory_mb: int, timeout_s: float, workers: int, parse: ParseFn | None = None) -> None:
        """`parse` (a module-level function, pickled by name) is for tests; the default is `parse_document`."""
        self.memory_mb = memory_mb
        self._parse = parse
        self.timeout_s = timeout_s
        self._slots = threading.BoundedSemaphore(workers)
        self._ctx: ForkServerContext = multiprocessing.get_context("forkserver")  # type: ignore[assignment]
        self._ctx.set_forkserver_preload([_CHILD_MODULE])
        self._running: set[Any] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the forkserver now (it imports the parser, ~1 s) rather than on the first upload."""
        from multiprocessing import forkserver

        forkserver.ensure_running()

    def parse(self, data: bytes, filename: str, content_type: str | None) -> ParsedNotice:
        """Like `parse_document`, in a child; raises `NoticeParseError` (`too_complex` past a limit)."""
        with self._slots:
            outcome = self._run_child(data, filename, content_type)
        if outcome[0] == "ok":
            return ParsedNotice.model_validate_json(outcome[1])
        raise NoticeParseError(outcome[1], outcome[2])

    def close(self) -> None:
        """Kill children still running (the service is stopping; their uploads get no answer)."""
        with self._lock:
            for process in list(self._running):
                process.kill()

    def _run_child(self, data: bytes, filename: str, content_type: str | None) -> tuple[str, ...]:
        from services.ingest.sandbox_child import run

        reader, writer = self._ctx.Pipe(duplex=False)
        process = self._ctx.Process(
            target=run, args=(writer, self.memory_mb, data, filename, content_type, self._parse), daemon=True
        )
        with self._lock:
            process.start()
            self._running.add(process)
        writer.close()
        answered = False
        try:
            outcome = _outcome(reader, process, self.timeout_s, self.memory_mb)
            answered = outcome[1] != "too_complex"
            return outcome
        finally:
            reader.close()
            # A child that answered exits by itself; one that overran is killed at once.
            process.join(1.0 if answered else 0)
            if process.exitcode is None:
                process.kill()
                process.join()
            with self._lock:
                self._running.discard(process)
            process.close()


def _outcome(reader: Connection, process: Any, timeout_s: float, memory_mb: int) -> tuple[str, ...]:
    if not reader.poll(timeout_s):
        return (
            "error",
            "too_complex",
            _too_complex(f"解析超过 {timeout_s:g} 秒", f"parsing took longer than {timeout_s:g} s").message,
        )
    try:
        outcome: tuple[str, ...] = reader.recv()
    except (EOFError, OSError):
        # The child died before answering: killed by the kernel or a crash in C code past its memory cap.
        process.join(1)
        return (
            "error",
            "too_complex",
            _too_complex(
                f"解析时超出 {memory_mb} MB 内存上限或异常退出",
                f"parsing exceeded the {memory_mb} MB memory limit or crashed",
            ).message,
        )
    return outcome
