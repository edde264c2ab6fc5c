"""The log format: JSON lines with the request and event ids, readable lines, and no tracebacks for the expected."""

from __future__ import annotations

import io
import json
import logging

from services.common import logs


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_line_carries_the_ids_of_its_request_and_event(json_log: io.StringIO) -> None:
    token = logs.REQUEST_ID.set("req-1")
    try:
        with logs.event_scope("ev-1", "corr-1"):
            logging.getLogger("services.test").info("handled %s", "它")
        logging.getLogger("services.test").warning("after")
    finally:
        logs.REQUEST_ID.reset(token)
    first, second = _lines(json_log)
    assert first["message"] == "handled 它" and first["level"] == "INFO" and first["logger"] == "services.test"
    assert (first["request_id"], first["event_id"], first["correlation_id"]) == ("req-1", "ev-1", "corr-1")
    assert str(first["ts"]).endswith("+00:00")
    assert "event_id" not in second and second["request_id"] == "req-1"


def test_uvicorn_and_faststream_lines_share_the_format(json_log: io.StringIO) -> None:
    logging.getLogger("uvicorn.error").info("Application startup complete.")
    logging.getLogger("faststream").info("broker up")
    logging.getLogger("uvicorn.access").info('%s - "%s %s HTTP/%s" %d', "1.2.3.4:5", "GET", "/healthz", "1.1", 200)
    startup, broker, access = _lines(json_log)
    assert startup["logger"] == "uvicorn.error" and broker["logger"] == "faststream"
    assert (access["method"], access["path"], access["status"]) == ("GET", "/healthz", 200)


def test_a_traceback_is_kept_for_a_surprise(json_log: io.StringIO) -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("services.test").exception("failed")
    [line] = _lines(json_log)
    assert "ValueError: boom" in str(line["traceback"])


def test_expected_conditions_log_no_traceback(json_log: io.StringIO) -> None:
    fs = logging.getLogger("faststream.nats")
    try:
        raise TimeoutError
    except TimeoutError as exc:
        fs.error("Task-7 raised an exception, retrying...\nIf this behavior causes issues", exc_info=exc)
    try:
        raise ConnectionResetError("gone")
    except ConnectionResetError as exc:
        fs.warning("Connection broken with %r", exc, exc_info=exc)
    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt:
        logging.getLogger("services.test").exception("interrupted")
    fs.info("callback for Task-7 is being executed...")
    broken, interrupted = _lines(json_log)  # the fetch timeout and the callback are dropped at INFO
    assert broken["level"] == "WARNING" and "traceback" not in broken
    assert interrupted["message"] == "interrupted" and "traceback" not in interrupted


def test_a_terminal_gets_readable_lines() -> None:
    formatter = logs.TextFormatter()
    record = logging.LogRecord("services.test", logging.INFO, __file__, 1, "hello", None, None)
    record.event_id, record.correlation_id, record.request_id = "ev-1", "corr-1", None
    assert formatter.format(record).endswith("services.test: hello [event=ev-1 correlation=corr-1]")


def test_auto_means_json_unless_a_terminal() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    root = logging.getLogger()
    for stream, formatter in ((io.StringIO(), logs.JsonFormatter), (Tty(), logs.TextFormatter)):
        handler = logs.configure(logs.LogSettings(format="auto"), stream=stream)
        try:
            assert isinstance(handler.formatter, formatter)
            assert [h for h in root.handlers if h.get_name() == "luoshi"] == [handler]  # replaced, not added
        finally:
            root.removeHandler(handler)
