"""Logging for a Luoshi process: one format for Luoshi's, uvicorn's and FastStream's lines.

JSON lines when stderr is not a terminal (containers, files, log shippers), readable lines on a
terminal. A line logged while a request or an event is handled carries its request id, or its
event id and correlation id, from context variables that the HTTP middleware
(`services/common/observe.py`) and the consumers (`services/common/messaging.py`) set, so
no call site passes them along.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Any, Literal

import orjson
from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REQUEST_ID: ContextVar[str | None] = ContextVar("luoshi_request_id", default=None)
EVENT_ID: ContextVar[str | None] = ContextVar("luoshi_event_id", default=None)
CORRELATION_ID: ContextVar[str | None] = ContextVar("luoshi_correlation_id", default=None)
_CONTEXT = (("request_id", REQUEST_ID), ("event_id", EVENT_ID), ("correlation_id", CORRELATION_ID))
# Record attributes FastStream passes with its lines (`extra=`); its `message_id` is a random uuid
# for our events (the event id travels as Nats-Msg-Id), so it is left out.
_FASTSTREAM_FIELDS = ("subject", "stream")


class LogSettings(BaseSettings):
    """Process-wide, not per service: `luoshi up` runs four services in one process and one log."""

    model_config = SettingsConfigDict(env_prefix="LUOSHI_LOG_", extra="ignore")

    format: Literal["auto", "json", "text"] = "auto"
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


def bind_event(event_id: str | None, correlation_id: str | None) -> None:
    """Name the event the current task works on, for every line it logs from now on.

    A consumer calls this in the task FastStream runs each fetched message in, so the binding ends
    with the message; FastStream's own "Processed" and error lines, logged in that task, carry it too.
    """
    EVENT_ID.set(event_id)
    CORRELATION_ID.set(correlation_id)


@contextmanager
def event_scope(event_id: str | None, correlation_id: str | None = None) -> Iterator[None]:
    """Name an event for the lines logged inside the block, in code that handles many events in one task."""
    tokens = EVENT_ID.set(event_id), CORRELATION_ID.set(correlation_id)
    try:
        yield
    finally:
        EVENT_ID.reset(tokens[0])
        CORRELATION_ID.reset(tokens[1])


class ContextFilter(logging.Filter):
    """Puts the request and event ids of the current context on each record (an `extra=` value wins)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, var in _CONTEXT:
            if getattr(record, name, None) is None:
                setattr(record, name, var.get())
        return True


class ExpectedConditions(logging.Filter):
    """Keeps tracebacks for surprises only.

    - nats-py's pull fetch sometimes raises the builtin `TimeoutError` (its deadline ran out between
      two requests) instead of its own, which FastStream's loop does not catch: the loop's task dies,
      FastStream's supervisor logs "... raised an exception, retrying" with a traceback and starts it
      again. Nothing is lost; the line is dropped (kept at DEBUG, without the traceback).
    - A NATS disconnect is logged by FastStream as "Connection broken" with the error's traceback;
      the reconnect is automatic, so the warning stays and the traceback goes.
    - Ctrl-C and cancellation at shutdown are not errors; FastStream's "callback for Task-N is being
      executed..." at every stop is its bookkeeping (DEBUG).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        message = str(record.msg)
        faststream = record.name.startswith("faststream")
        if faststream and "raised an exception, retrying" in message and isinstance(exc, TimeoutError):
            return _demote(record, "a pull fetch timed out; FastStream restarts the loop")
        if faststream and message.startswith("callback for ") and message.endswith("is being executed..."):
            return _demote(record)  # one per consumer at every stop: FastStream's bookkeeping
        expected = isinstance(exc, KeyboardInterrupt | asyncio.CancelledError)
        if expected or (faststream and message.startswith("Connection broken")):
            _drop_traceback(record)
        return True


def _demote(record: logging.LogRecord, message: str | None = None) -> bool:
    """Make a record a DEBUG line without traceback; False (drop it) unless DEBUG lines are wanted."""
    if not logging.getLogger().isEnabledFor(logging.DEBUG):
        return False
    record.levelno, record.levelname = logging.DEBUG, "DEBUG"
    if message is not None:
        record.msg, record.args = message, None
    _drop_traceback(record)
    return True


def _drop_traceback(record: logging.LogRecord) -> None:
    record.exc_info, record.exc_text, record.stack_info = None, None, None


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, the context ids that are set, traceback."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, _var in _CONTEXT:
            value = getattr(record, name, None)
            if value:
                line[name] = value
        for name in _FASTSTREAM_FIELDS:
            value = getattr(record, name, None)
            if value:
                line[name] = value
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) == 5:
            client, method, path, _http, status = record.args
            line |= {"client": client, "method": method, "path": path, "status": status}
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["traceback"] = record.exc_text
        return orjson.dumps(line, default=str).decode()


class TextFormatter(logging.Formatter):
    """`time level logger: message [request=… event=… correlation=… subject=…]`, for a person at a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        names = [(name, name.removesuffix("_id")) for name, _var in _CONTEXT]
        names += [(name, name) for name in _FASTSTREAM_FIELDS]
        ids = " ".join(f"{short}={value}" for name, short in names if (value := getattr(record, name, None)))
        if not ids:
            return text
        head, newline, rest = text.partition("\n")  # after the message, before any traceback
        return f"{head} [{ids}]{newline}{rest}"


# Loggers that bring their own handlers and stop propagation; configure() hands them to the root.
_ADOPTED = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi", "faststream", "faststream.access")


def configure(
    settings: LogSettings | None = None, *, stream: IO[str] | None = None, json_lines: bool | None = None
) -> logging.Handler:
    """Send every logger's lines through one handler on stderr; safe to call again (the handler is replaced).

    `json_lines` forces the format (tests); otherwise `LUOSHI_LOG_FORMAT`, and `auto` means JSON
    unless the stream is a terminal.
    """
    import faststream._internal.logger.logging  # noqa: F401  (creates FastStream's own handler, removed below)

    settings = settings or LogSettings()
    stream = stream or sys.stderr
    if json_lines is None:
        json_lines = settings.format == "json" or (settings.format == "auto" and not _is_terminal(stream))
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if json_lines else TextFormatter())
    handler.addFilter(ContextFilter())
    handler.addFilter(ExpectedConditions())
    handler.set_name("luoshi")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "luoshi"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.level)
    for name in _ADOPTED:
        adopted = logging.getLogger(name)
        adopted.handlers.clear()
        adopted.propagate = True
        adopted.setLevel(logging.NOTSET)
    logging.captureWarnings(True)
    return handler


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
