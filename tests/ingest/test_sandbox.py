"""Parsing in a child process: the same parse as in-process, and a bounded failure for the rest."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources

import pytest

from services.common.errors import ApiError
from services.ingest.parsing.api import parse_document
from services.ingest.parsing.errors import NoticeParseError
from services.ingest.sandbox import ParseFn, ParseSandbox
from tests.ingest import hostile, sandbox_targets

EXAMPLE = resources.files("services.ingest").joinpath("examples", "example-notice.txt").read_bytes()


@contextmanager
def _sandbox(parse: ParseFn | None = None, timeout_s: float = 20, workers: int = 2) -> Iterator[ParseSandbox]:
    sandbox = ParseSandbox(memory_mb=384, timeout_s=timeout_s, workers=workers, parse=parse)
    sandbox.start()
    try:
        yield sandbox
    finally:
        sandbox.close()


@pytest.fixture
def sandbox() -> Iterator[ParseSandbox]:
    with _sandbox() as sandbox:
        yield sandbox


def _too_complex(sandbox: ParseSandbox, data: bytes = EXAMPLE, name: str = "n.txt") -> NoticeParseError:
    with pytest.raises(NoticeParseError) as caught:
        sandbox.parse(data, name, None)
    zh, _, en = caught.value.message.partition(" / ")
    assert zh and en
    return caught.value


def test_a_child_parses_as_the_library_does(sandbox: ParseSandbox) -> None:
    assert sandbox.parse(EXAMPLE, "example.txt", "text/plain") == parse_document(EXAMPLE, "example.txt", "text/plain")


def test_a_reader_refusal_comes_back_as_itself(sandbox: ParseSandbox) -> None:
    assert _too_complex(sandbox, hostile.billion_laughs(), "n.docx").code == "unsafe_xml"


def test_a_child_past_its_memory_cap_is_too_complex() -> None:
    with _sandbox(sandbox_targets.hog) as sandbox:
        error = _too_complex(sandbox)
        assert error.code == "too_complex"
        assert "384 MB" in error.message


def test_a_child_past_its_time_is_killed() -> None:
    with _sandbox(sandbox_targets.sleeper, timeout_s=1) as sandbox:
        started = time.monotonic()
        assert _too_complex(sandbox).code == "too_complex"
        assert time.monotonic() - started < 5


def test_a_child_that_dies_is_too_complex() -> None:
    with _sandbox(sandbox_targets.crasher) as sandbox:
        assert _too_complex(sandbox).code == "too_complex"


def test_an_unexpected_error_is_a_parse_error_not_a_crash() -> None:
    with _sandbox(sandbox_targets.buggy) as sandbox:
        assert _too_complex(sandbox).code == "unreadable"


def test_a_worker_that_failed_is_replaced_and_the_next_upload_parses() -> None:
    with _sandbox(sandbox_targets.by_content, timeout_s=2) as sandbox:
        expected = parse_document(EXAMPLE, "example.txt")
        for bad in (b"hog", b"sleep", b"crash"):
            assert _too_complex(sandbox, bad).code == "too_complex"
            assert sandbox.parse(EXAMPLE, "example.txt", None) == expected
        assert len(sandbox._all) <= 2


def test_uploads_past_the_queue_are_refused_at_once_with_503() -> None:
    # One worker admits four uploads: one parsing (here: sleeping to its time limit), three waiting.
    with _sandbox(sandbox_targets.by_content, timeout_s=1, workers=1) as sandbox:
        waiting = [threading.Thread(target=_refused_quietly, args=(sandbox,)) for _ in range(4)]
        for thread in waiting:
            thread.start()
        time.sleep(0.2)
        started = time.monotonic()
        with pytest.raises(ApiError) as caught:
            sandbox.parse(EXAMPLE, "example.txt", None)
        assert caught.value.status == 503 and caught.value.zh and caught.value.en
        assert time.monotonic() - started < 0.5
        for thread in waiting:
            thread.join()


def _refused_quietly(sandbox: ParseSandbox) -> None:
    with pytest.raises(NoticeParseError):
        sandbox.parse(b"sleep", "n.txt", None)


def test_a_worker_that_died_while_idle_is_replaced_before_the_next_upload() -> None:
    with _sandbox(workers=1) as sandbox:
        assert sandbox.parse(EXAMPLE, "example.txt", "text/plain").tasks
        for worker in list(sandbox._all):  # killed from outside, as an OOM killer or an operator would
            worker.process.kill()
            worker.process.join()
        assert sandbox.parse(EXAMPLE, "example.txt", "text/plain").tasks


def test_spreadsheets_old_word_files_and_scans_parse_under_the_workers_limits() -> None:
    """The programs a reader calls run inside the worker's memory cap (the default) and time limit."""
    from services.ingest.parsing.readers import external
    from services.ingest.settings import IngestSettings
    from tests.ingest.scans import build_image_pdf, cjk_font_path
    from tests.ingest.table_forms import other_headers, source, xlsx
    from tests.ingest.test_external_readers import need, to_doc

    need(external.soffice_path(), "LibreOffice (soffice)")
    need(external.tesseract_path(), "Tesseract (tesseract-ocr, tesseract-ocr-chi-sim)")
    need(cjk_font_path(), "a CJK font (fonts-wqy-zenhei)")
    name = "yanzhou-2026-work-report-tasks"
    text = "某某县人民政府\n关于分解任务的通知\n一、稳增长\n1.扩大投资。（牵头单位：县发改局）\n2.促进消费。（牵头单位：县商务局）"
    files = {
        "n.xlsx": xlsx(source(name)),
        "n.doc": to_doc(other_headers(source(name))),
        "scan.pdf": build_image_pdf(text),
    }
    box = ParseSandbox(
        memory_mb=IngestSettings().parse_memory_mb, timeout_s=IngestSettings().parse_timeout_s, workers=1
    )
    try:
        for filename, data in files.items():
            assert box.parse(data, filename, None) == parse_document(data, filename), filename
    finally:
        box.close()
