"""Hostile files are refused by the readers before they inflate, with a bilingual reason."""

from __future__ import annotations

import resource
import time

import pytest

from services.ingest.parsing.errors import NoticeParseError
from services.ingest.parsing.readers import read_notice
from tests.ingest import hostile


def _refused(data: bytes, name: str = "notice.docx") -> NoticeParseError:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    with pytest.raises(NoticeParseError) as caught:
        read_notice(data, name)
    # Refused from the headers or a bounded inflate: no tree was built, nothing took long.
    assert time.perf_counter() - started < 5
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100 * 1024
    zh, _, en = caught.value.message.partition(" / ")
    assert zh and en
    return caught.value


def test_a_styles_zip_bomb_is_refused_from_its_headers() -> None:
    error = _refused(hostile.styles_bomb())
    assert error.code == "too_complex"
    assert "styles.xml" in error.message


def test_sixty_four_megabytes_of_empty_paragraphs_are_refused() -> None:
    assert _refused(hostile.empty_paragraphs()).code == "too_complex"


def test_a_header_that_understates_the_size_does_not_let_it_inflate() -> None:
    # zipfile stops at the declared 100 bytes and the CRC then fails: damaged, not read.
    assert _refused(hostile.lying_header()).code in {"corrupt", "too_complex"}


def test_billion_laughs_is_refused_for_its_dtd() -> None:
    assert _refused(hostile.billion_laughs()).code == "unsafe_xml"


def test_deeply_nested_xml_is_refused_as_too_complex() -> None:
    assert _refused(hostile.deep_nesting()).code == "too_complex"


def test_an_xlsx_bomb_is_refused_without_inflating() -> None:
    # Without a workbook part the zip's names alone tell it is no spreadsheet; with one, the
    # container limits (checked before calamine opens it) refuse it.
    assert _refused(hostile.xlsx_bomb(), "tasks.xlsx").code == "unsupported_type"
    assert _refused(hostile.xlsx_bomb(workbook=True), "tasks.xlsx").code == "too_complex"


def test_an_ordinary_docx_still_reads() -> None:
    from tests.ingest.builders import build_docx

    assert "一、测试任务" in read_notice(build_docx("一、测试任务。\n二、**区发改局**牵头。"), "n.docx")


def test_a_member_under_the_size_cap_is_refused_for_its_compression_ratio() -> None:
    error = _refused(hostile.empty_paragraphs(mb=16))
    assert error.code == "too_complex"
    assert "压缩比" in error.message
