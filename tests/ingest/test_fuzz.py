"""Property: whatever the bytes, `parse_document` returns a parse or a Chinese `NoticeParseError`.

The inputs are the real notices damaged the way extraction and uploads damage them (page
numbers, bullets, stray CJK, broken lines, truncation, garbage slices), plus plain random bytes
and corrupted docx/pdf files. Under CI=true the examples are derandomised so a run reproduces.
"""

from __future__ import annotations

import os
import re
from functools import cache

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from proto.notice import ParsedNotice
from services.ingest.parsing.api import parse_document
from services.ingest.parsing.errors import NoticeParseError
from tests.ingest.builders import build_docx, build_docx_bad_member, build_pdf
from tests.ingest.gold import NOTICES, notice_path

_CJK_RE = re.compile(r"[\u4e00-\u9fff]")
_FUZZ = settings(
    deadline=2000,  # ms per example: a regex gone quadratic shows up as a deadline error
    derandomize=os.environ.get("CI") == "true",
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

NOISE = [
    "—12—",
    "－5－",
    "- 3 -",
    "\n- 23 -\n",
    "\n第3页 共9页\n",
    "\n12\n",
    "• ",
    "\n● ",
    "\n- ",
    "\n## ",
    "**",
    "（",
    "）",
    "\n13.\n",
    "\n一、",
    "牵头领导：",
    "承办单位：",
    "\t",
    "|",
    "\n| 序号 | 工作任务 | 牵头单位 |\n",
    "\u3000",
    "\u200b",
    "⼀",
]
_cjk = st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), min_size=1, max_size=12)


@cache
def notice_text(name: str) -> str:
    return notice_path(name).read_text(encoding="utf-8")


@cache
def short_notice_files() -> dict[str, bytes]:
    """docx and pdf of a notice's first lines: small enough for pdf extraction to stay fast."""
    text = "\n".join(notice_text(NOTICES[2]).splitlines()[:40])
    return {"docx": build_docx(text), "pdf": build_pdf(text)}


def assert_parses_or_explains(data: bytes, name: str) -> None:
    try:
        result = parse_document(data, name)
    except NoticeParseError as exc:
        assert exc.message, name
        assert _CJK_RE.search(exc.message), exc.message
    else:
        assert isinstance(result, ParsedNotice)


def _mutate_text(draw: st.DrawFn, text: str) -> str:
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["noise", "cjk", "break", "truncate", "delete"]))
        at = draw(st.integers(0, len(text)))
        if op == "noise":
            text = text[:at] + draw(st.sampled_from(NOISE)) + text[at:]
        elif op == "cjk":
            text = text[:at] + draw(_cjk) + text[at:]
        elif op == "break":
            text = text[:at] + "\n" + text[at:]
        elif op == "truncate":
            text = text[:at]
        else:
            text = text[:at] + text[at + draw(st.integers(1, 200)) :]
    return text


def _replace_bytes(draw: st.DrawFn, data: bytes, times: int) -> bytes:
    for _ in range(times):
        at = draw(st.integers(0, len(data)))
        width = draw(st.integers(0, 64))
        data = data[:at] + draw(st.binary(max_size=64)) + data[at + width :]
    return data


@st.composite
def damaged_notices(draw: st.DrawFn) -> bytes:
    data = _mutate_text(draw, notice_text(draw(st.sampled_from(NOTICES)))).encode("utf-8")
    return _replace_bytes(draw, data, draw(st.integers(0, 2)))


@st.composite
def damaged_files(draw: st.DrawFn) -> tuple[bytes, str]:
    kind = draw(st.sampled_from(["docx", "pdf"]))
    data = short_notice_files()[kind]
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return _replace_bytes(draw, data, draw(st.integers(0, 3))), f"notice.{kind}"


@settings(_FUZZ, max_examples=90)
@given(data=damaged_notices(), name=st.sampled_from(["notice.txt", "notice.md"]))
def test_damaged_notices_parse_or_explain(data: bytes, name: str) -> None:
    assert_parses_or_explains(data, name)


@settings(_FUZZ, max_examples=30)
@given(data=st.binary(max_size=4096), name=st.sampled_from(["a.txt", "a.md", "a.docx", "a.pdf", "a"]))
def test_random_bytes_parse_or_explain(data: bytes, name: str) -> None:
    assert_parses_or_explains(data, name)


# Found by this test: zipfile's zlib.error (and NotImplementedError) escaped the docx reader.
@example(file=(build_docx_bad_member("deflate"), "notice.docx"))
@example(file=(build_docx_bad_member("method"), "notice.docx"))
@settings(_FUZZ, max_examples=30)
@given(damaged_files())
def test_damaged_docx_and_pdf_parse_or_explain(file: tuple[bytes, str]) -> None:
    assert_parses_or_explains(*file)


@pytest.mark.parametrize("damage", ["deflate", "method"])
def test_a_docx_member_that_cannot_be_inflated_is_corrupt(damage: str) -> None:
    with pytest.raises(NoticeParseError) as raised:
        parse_document(build_docx_bad_member(damage), "notice.docx")
    assert raised.value.code == "corrupt"
