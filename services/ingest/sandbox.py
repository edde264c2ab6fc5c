"""Parsing uploads in worker processes with a memory and a time limit.

One process serves every service in `luoshi up`; a hostile file parsed there could take its
memory or hold a core for half a minute while status reads from other clients wait. Uploads are
parsed instead by a few long-lived workers (forked from a forkserver that has the parser
imported): each caps its own address space (`RLIMIT_AS`) at start, and the parent kills one that
overruns the time limit, dies or runs out of memory, and starts a replacement for the next
upload. That upload is refused as `too_complex`; nothing it did reaches the database.

Workers live on, rather than one process per upload, because every new multiprocessing child
re-imports the main script first (the `luoshi` command: ~0.7 s; Python 3.11's forkserver never
preloads it) and an upload should cost milliseconds more, not a second. A worker is recycled
after `_JOBS_PER_WORKER` uploads so that what big parses leave in its heap does not accumulate.

The calls block, so callers run them in a worker thread (the upload route is a sync route),
never on the event loop.
"""

from __future__ import annotations

import multiprocessing
import queue
import threading
from collections.abc import Callable
from multiprocessing.context import ForkServerContext

from proto.notice import ParsedNotice
from services.common.errors import ApiError
from services.ingest.parsing.errors import NoticeParseError
from services.ingest.parsing.readers.segments import too_complex

_CHILD_MODULE = "services.ingest.sandbox_child"
_SIGNALS_MODULE = "services.ingest.sandbox_signals"
_JOBS_PER_WORKER = 100
# Uploads admitted at once per worker (one parsing, the rest waiting). Each waits in one of the
# threads that every sync route of the process shares, so the queue must stay short.
_ADMITTED_PER_WORKER = 4
ParseFn = Callable[[bytes, str, str | None], ParsedNotice]
Outcome = tuple[str, ...]


class _Worker:
    def __init__(self, ctx: ForkServerContext, memory_mb: int, parse: ParseFn | None) -> None:
        from services.ingest.sandbox_child import serve

        self.conn, theirs = ctx.Pipe()
        self.process = ctx.Process(target=serve, args=(theirs, memory_mb, parse), daemon=True)
        self.process.start()
        theirs.close()
        self.jobs = 0

    def run(self, job: tuple[bytes, str, str | None], timeout_s: float) -> Outcome | None:
        """The outcome, or None when the worker gave none in time (or died)."""
        self.jobs += 1
        try:
            self.conn.send(job)
            if not self.conn.poll(timeout_s):
                return None
            outcome: Outcome = self.conn.recv()
        except (EOFError, OSError):
            return None
        return outcome

    def kill(self) -> None:
        self.process.kill()
        self.process.join()
        self.conn.close()


class ParseSandbox:
    def __init__(self, *, memory_mb: int, timeout_s: float, workers: int, parse: ParseFn | None = None) -> None:
        """`parse` (a module-level function, pickled by name) is for tests; the default is `parse_document`."""
        self.memory_mb = memory_mb
        self.timeout_s = timeout_s
        self._parse = parse
        self._ctx: ForkServerContext = multiprocessing.get_context("forkserver")  # type: ignore[assignment]
        self._ctx.set_forkserver_preload([_SIGNALS_MODULE, _CHILD_MODULE])
        # A slot holds an idle worker, or None where one is still to be started.
        self._idle: queue.Queue[_Worker | None] = queue.Queue()
        for _ in range(workers):
            self._idle.put(None)
        self._size = workers
        self._admitted = threading.BoundedSemaphore(workers * _ADMITTED_PER_WORKER)
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        self._closed = False

    def start(self) -> None:
        """Start every worker now (about a second each) rather than on the first uploads."""
        slots = [self._idle.get() for _ in range(self._size)]
        for slot in slots:
            self._idle.put(slot or self._new_worker())

    def parse(self, data: bytes, filename: str, content_type: str | None) -> ParsedNotice:
        """Like `parse_document`, in a worker; raises `NoticeParseError` (`too_complex` past a limit),
        or `ApiError` 503 when too many uploads already wait for a worker."""
        if not self._admitted.acquire(blocking=False):
            raise ApiError(
                503,
                "parser_busy",
                "正在解析的文件过多，请稍后重试",
                "too many files are being parsed; try again shortly",
            )
        try:
            return self._parse_admitted(data, filename, content_type)
        finally:
            self._admitted.release()

    def _parse_admitted(self, data: bytes, filename: str, content_type: str | None) -> ParsedNotice:
        worker = self._idle.get()
        if worker is not None and not worker.process.is_alive():
            # It died while idle (killed from outside, or its limit caught it after answering):
            # this upload must not pay for that.
            self._discard(worker)
            worker = None
        worker = worker or self._new_worker()
        outcome: Outcome | None = None
        try:
            outcome = worker.run((data, filename, content_type), self.timeout_s)
        finally:
            self._give_back(worker, healthy=outcome is not None and outcome[0] != "fatal")
        if outcome is None:
            raise too_complex(
                f"解析超过 {self.timeout_s:g} 秒或进程异常退出",
                f"parsing took longer than {self.timeout_s:g} s or crashed",
            )
        if outcome[0] == "ok":
            return ParsedNotice.model_validate_json(outcome[1])
        raise NoticeParseError(outcome[1], outcome[2])

    def close(self) -> None:
        """Kill every worker; a parse still running gets no outcome and is refused."""
        with self._lock:
            self._closed = True
            workers = list(self._all)
        for worker in workers:
            worker.kill()

    def _new_worker(self) -> _Worker:
        worker = _Worker(self._ctx, self.memory_mb, self._parse)
        with self._lock:
            self._all.add(worker)
        return worker

    def _give_back(self, worker: _Worker, *, healthy: bool) -> None:
        if healthy and worker.jobs < _JOBS_PER_WORKER and not self._closed:
            self._idle.put(worker)
            return
        self._discard(worker)
        self._idle.put(None)

    def _discard(self, worker: _Worker) -> None:
        worker.kill()
        with self._lock:
            self._all.discard(worker)
