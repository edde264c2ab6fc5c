"""readers.read_notice on real notices rebuilt as docx/pdf, on encodings, and on broken files."""

from __future__ import annotations

import difflib
import re
from functools import cache
from pathlib import Path

import pytest

from services.ingest.parsing.errors import NoticeParseError
from services.ingest.parsing.readers import detect_kind, is_bold_font, read_notice
from tests.ingest import builders
from tests.shared import NOTICE_NAMES, shared_notice

# pdf round trip floor: STSong-Light has no glyph for "•", so one of the ~70k chars is lost today.
PDF_SIMILARITY_FLOOR = 0.999


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text.replace("**", ""))


def _similarity(a: str, b: str) -> float:
    return 1.0 if a == b else difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


@cache
def _source(path: Path) -> str:
    return path.read_text(encoding="utf-8")


@cache
def _docx(path: Path) -> bytes:
    return builders.build_docx(_source(path))


@cache
def _pdf(path: Path) -> bytes:
    return builders.build_pdf(_source(path))


@pytest.fixture(params=NOTICE_NAMES)
def path(request: pytest.FixtureRequest) -> Path:
    return shared_notice(request.param)


# ---------------------------------------------------------------- real notices


def test_all_five_shared_notices_are_there() -> None:
    assert all(shared_notice(name).is_file() for name in NOTICE_NAMES)


def test_docx_round_trip_keeps_text_and_bold(path: Path) -> None:
    source = _source(path)
    text = read_notice(_docx(path), path.stem + ".docx")
    assert _flat(text) == _flat(source)
    assert sorted(builders.bold_strings(text)) == sorted(builders.bold_strings(source))


def test_pdf_round_trip_keeps_text_and_bold(path: Path) -> None:
    source = _source(path)
    text = read_notice(_pdf(path), path.stem + ".pdf")
    ratio = _similarity(_flat(source), _flat(text))
    print(f"{path.stem}: pdf similarity {ratio:.5f} over {len(_flat(source))} chars")
    assert ratio >= PDF_SIMILARITY_FLOOR
    assert sorted(builders.bold_strings(text)) == sorted(builders.bold_strings(source))


def test_plain_text_comes_back_unchanged(path: Path) -> None:
    source = _source(path)
    assert read_notice(source.encode("utf-8"), path.name) == source


def test_a_bold_span_wrapped_across_pdf_lines_stays_one_span() -> None:
    path = shared_notice("yanzhou-2026-work-report-tasks")
    text = read_notice(_pdf(path), "n.pdf")
    multi_line = [m for m in re.findall(r"\*\*(.+?)\*\*", text, re.DOTALL) if "\n" in m]
    assert multi_line, "expected the long bold host-unit list to wrap in the PDF"


# ---------------------------------------------------------------- text encodings


SAMPLE = "济兖政发〔2026〕1号\r\n承办单位：**区工业和信息化局**，各镇街。\r\n"
EXPECTED = "济兖政发〔2026〕1号\n承办单位：**区工业和信息化局**，各镇街。\n"


@pytest.mark.parametrize(
    "encoded",
    [
        SAMPLE.encode("utf-8"),
        b"\xef\xbb\xbf" + SAMPLE.encode("utf-8"),
        SAMPLE.encode("gb18030"),
        SAMPLE.encode("utf-16"),
    ],
    ids=["utf8", "utf8-bom", "gb18030", "utf16-bom"],
)
def test_text_encodings_decode_and_crlf_is_normalised(encoded: bytes) -> None:
    assert read_notice(encoded, "notice.txt") == EXPECTED


def test_a_whole_notice_in_gbk_decodes() -> None:
    source = _source(shared_notice("jining-2023-work-report-division"))
    assert read_notice(source.encode("gbk"), "notice.txt") == source


def test_markdown_is_read_as_text() -> None:
    assert read_notice("# 通知\n**黑体**".encode(), "n.md") == "# 通知\n**黑体**"


# ---------------------------------------------------------------- docx structure


def test_docx_tables_come_as_rows_in_body_order() -> None:
    data = builders.build_docx_blocks(
        [
            "前言段落",
            [["序号", "任务", "牵头单位"], ["1", "推进项目", "**区发展改革局**，区财政局"]],
            "结尾段落",
        ],
        header="页眉文字",
        footer="— 1 —",
    )
    text = read_notice(data, "t.docx")
    assert text.split("\n") == [
        "前言段落",
        "| 序号 | 任务 | 牵头单位 |",
        "| 1 | 推进项目 | **区发展改革局**，区财政局 |",
        "结尾段落",
    ]


def test_docx_merged_cells_are_not_repeated_and_columns_stay_aligned() -> None:
    import io

    import docx

    document = docx.Document()
    table = document.add_table(rows=2, cols=3)
    for r in range(2):
        for c in range(3):
            table.cell(r, c).text = f"{r}{c}"
    table.cell(0, 0).merge(table.cell(0, 1)).text = "横向合并"
    table.cell(0, 2).merge(table.cell(1, 2)).text = "纵向合并"
    out = io.BytesIO()
    document.save(out)
    rows = read_notice(out.getvalue(), "m.docx").split("\n")
    assert rows == ["| 横向合并 |  | 纵向合并 |", "| 10 | 11 |  |"]


def test_docx_bold_from_styles_and_adjacent_runs_merge() -> None:
    import io

    import docx

    document = docx.Document()
    document.add_paragraph("标题一", style="Heading 1")  # bold by its style
    styled = document.add_paragraph("正文")
    styled.add_run("强调").style = document.styles["Strong"]  # bold by character style
    split = document.add_paragraph()
    for piece in ("区工业", "和", "信息化局"):
        split.add_run(piece).bold = True
    split.add_run("，各镇街")
    off = document.add_paragraph(style="Heading 1")
    off.add_run("不加粗").bold = False  # run formatting overrides the style
    out = io.BytesIO()
    document.save(out)
    assert read_notice(out.getvalue(), "s.docx").split("\n") == [
        "**标题一**",
        "正文**强调**",
        "**区工业和信息化局**，各镇街",
        "不加粗",
    ]


# ---------------------------------------------------------------- pdf structure


def test_pdf_table_rows_come_in_place_with_bold() -> None:
    data = builders.build_pdf_table("前言段落", [["序号", "牵头单位"], ["1", "**区商务局**，各镇街"]], "结尾段落")
    assert read_notice(data, "t.pdf").split("\n") == [
        "前言段落",
        "| 序号 | 牵头单位 |",
        "| 1 | **区商务局**，各镇街 |",
        "结尾段落",
    ]


def test_pdf_overprinted_text_reads_as_bold_once() -> None:
    data = builders.build_overprinted_pdf("承办单位：", "区商务局")
    assert read_notice(data, "o.pdf") == "承办单位：**区商务局**"


def test_pdf_with_only_an_owner_password_is_read() -> None:
    data = builders.build_encrypted_pdf("Open to read", user_password="")
    assert read_notice(data, "o.pdf") == "Open to read"


@pytest.mark.parametrize(
    ("fontname", "bold"),
    [
        ("ABCDEF+SimHei", True),
        ("STSong-Light,Bold", True),
        ("FZHTK--GBK1-0", True),
        ("Arial-BoldMT", True),
        ("NotoSansCJKsc-Black", True),
        ("ABCDEF+FangSong_GB2312", False),
        ("MicrosoftYaHei", False),
        ("HeiseiMin-W3", False),
        ("STSongStd-Light", False),
        ("\xba\xda\xcc\xe5", True),  # "黑体" in GBK, as pdfminer hands it over
    ],
)
def test_bold_font_names(fontname: str, bold: bool) -> None:
    assert is_bold_font(fontname) is bold


# ---------------------------------------------------------------- bad files


@pytest.mark.parametrize(
    ("data", "filename", "code"),
    [
        (builders.build_encrypted_pdf(), "n.pdf", "encrypted"),
        (builders.build_ole_encrypted_office(), "n.docx", "encrypted"),
        (builders.build_corrupt_docx(), "n.docx", "corrupt"),
        (builders.build_corrupt_pdf(), "n.pdf", "corrupt"),
        (b"just text", "n.pdf", "corrupt"),
        (builders.build_scanned_pdf(), "n.pdf", "empty"),
        (b"   \n\r\n  ", "n.txt", "empty"),
        (builders.build_docx(""), "n.docx", "empty"),
        (b"\x89PNG\r\n\x1a\n" + bytes(64), "n.png", "unsupported_type"),
        (b"text in a spreadsheet name", "n.xlsx", "corrupt"),
        (b"<html></html>", "n.html", "unsupported_type"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(1024), "n.doc", "unsupported_type"),
        (builders.build_zip({"a.txt": b"x"}), "n.zip", "unsupported_type"),
    ],
    ids=[
        "encrypted-pdf",
        "encrypted-ooxml",
        "truncated-docx",
        "garbage-pdf",
        "text-named-pdf",
        "scanned-pdf",
        "blank-txt",
        "blank-docx",
        "png",
        "text-named-xlsx",
        "html",
        "legacy-doc",
        "plain-zip",
    ],
)
def test_bad_files_raise_the_right_code(data: bytes, filename: str, code: str) -> None:
    with pytest.raises(NoticeParseError) as info:
        read_notice(data, filename)
    assert info.value.code == code
    zh, _, en = info.value.message.partition(" / ")
    assert re.search(r"[\u4e00-\u9fff]", zh) and en.isascii(), info.value.message


def test_scanned_pdf_message_says_it_is_a_scan() -> None:
    with pytest.raises(NoticeParseError) as info:
        read_notice(builders.build_scanned_pdf(), "scan.pdf")
    assert "扫描" in info.value.message and "OCR" in info.value.message


def test_detect_kind_trusts_content_over_a_wrong_name() -> None:
    assert detect_kind(builders.build_docx("正文"), "upload.pdf") == "docx"
    assert detect_kind(builders.build_corrupt_pdf(), "upload.docx") == "pdf"
    assert detect_kind("正文".encode(), "notice.md") == "md"
    assert detect_kind("说明：文件头 %PDF-1.7".encode(), "notice.txt") == "txt"
    assert detect_kind(b"\r\n" + builders.build_corrupt_pdf(), "n.pdf") == "pdf"
    assert detect_kind("正文".encode(), "notice", "text/plain; charset=utf-8") == "txt"
