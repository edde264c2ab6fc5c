"""One writer at a time on SQLite, inside the process.

SQLite allows a single writer and pysqlite reads outside the write transaction, so two
concurrent reports could both read a task and the second commit would overwrite the first;
a lock also spares requests SQLite's sleeping busy-wait. PostgreSQL needs none: its writers
lock the task row (`FOR UPDATE`) and the roll-ups are atomic increments.
"""

from __future__ import annotations

import asyncio
import threading
from types import TracebackType

from sqlalchemy.engine import make_url


class WriteGate:
    def __init__(self, database_url: str) -> None:
        self._lock = threading.Lock() if make_url(database_url).get_backend_name() == "sqlite" else None

    def enter_now(self) -> bool:
        """Take the gate if it is free, without waiting; True when taken (always, on PostgreSQL)."""
        return self._lock is None or self._lock.acquire(blocking=False)

    async def enter(self) -> None:
        """Take the gate from the event loop: at once if free, else waiting in a worker thread.

        A long writer (a clock tick re-judging every task may take seconds) must never block the loop.
        The caller must not be cancelled between this and `leave` (the report writer is shielded).
        """
        if not self.enter_now():
            assert self._lock is not None
            await asyncio.to_thread(self._lock.acquire)

    def leave(self) -> None:
        if self._lock is not None:
            self._lock.release()

    def __enter__(self) -> WriteGate:
        if self._lock is not None:
            self._lock.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._lock is not None:
            self._lock.release()
