"""Old Word files through LibreOffice, scanned PDFs through Tesseract, spreadsheets, scored on the gold.

The programs come from Debian's packages (`.ci/run` installs them). Without one, its tests skip
with one line naming it; under `CI=true` they fail instead, since CI must run them.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import pytest

from services.ingest.parsing.api import parse_document
from services.ingest.parsing.errors import NoticeParseError
from services.ingest.parsing.readers import external, read_notice
from tests.ingest.builders import build_docx
from tests.ingest.gold import ASSERTED_FIELDS, accuracies, format_wrong, load_gold, notice_path, score
from tests.ingest.scans import build_image_pdf, cjk_font_path
from tests.ingest.table_forms import other_headers, source

NAME = "yanzhou-2026-work-report-tasks"  # the shortest shared notice: OCR costs seconds a page


def need(present: object, what: str) -> None:
    if present:
        return
    message = f"{what} is not installed (see .ci/run)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}: required under CI=true", pytrace=False)
    pytest.skip(message)


def to_doc(docx: bytes, fmt: str = "doc") -> bytes:
    """A .doc (Word 97) made from a .docx by LibreOffice, as an office's old files are."""
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "n.docx"
        src.write_bytes(docx)
        subprocess.run(
            [
                external.soffice_path(),
                f"-env:UserInstallation=file://{tmp}/p",
                "--headless",
                "--convert-to",
                fmt,
                "--outdir",
                tmp,
                str(src),
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        return (Path(tmp) / f"n.{fmt.split(':')[0]}").read_bytes()


def low_fields(parsed, target: float) -> tuple[dict[str, float], str]:
    result = score(parsed, load_gold(NAME))
    got = accuracies(result)
    print("\n" + ", ".join(f"{k} {got[k]:.3f}" for k in ["tasks_found", *ASSERTED_FIELDS]))
    low = {k: got[k] for k in ["tasks_found", *ASSERTED_FIELDS] if got[k] < target}
    return low, f"missing={result['tasks']['missing'][:10]}\n" + format_wrong(
        result, [k for k in low if k in result["fields"]]
    )


def test_doc_table_notice_converted_by_libreoffice_scores_on_the_gold() -> None:
    need(external.soffice_path(), "LibreOffice (soffice)")
    data = to_doc(other_headers(source(NAME)))
    assert data.startswith(b"\xd0\xcf\x11\xe0")
    low, wrong = low_fields(parse_document(data, f"{NAME}.doc"), 0.98)
    assert low == {}, wrong


def test_wps_named_word97_file_reads_like_a_doc() -> None:
    need(external.soffice_path(), "LibreOffice (soffice)")
    data = to_doc(build_docx("某某县人民政府\n关于分解任务的通知\n一、稳增长\n1.扩大投资。（牵头单位：县发改局）"))
    parsed = parse_document(data, "notice.wps")
    assert [t.host_units for t in parsed.tasks] == [["县发改局"]]


def test_doc_without_a_converter_is_refused_naming_the_package(monkeypatch) -> None:
    monkeypatch.setattr(external.shutil, "which", lambda name: None)
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "WordDocument".encode("utf-16-le") + bytes(512)
    with pytest.raises(NoticeParseError) as info:
        read_notice(ole, "old.doc")
    assert info.value.code == "converter_missing"
    assert "libreoffice-writer-nogui" in info.value.message and "LibreOffice" in info.value.message


def test_corrupt_doc_is_refused_as_corrupt() -> None:
    need(external.soffice_path(), "LibreOffice (soffice)")
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "WordDocument".encode("utf-16-le") + bytes(4096)
    with pytest.raises(NoticeParseError) as info:
        read_notice(ole, "broken.doc")
    assert info.value.code in {"corrupt", "empty"}


def test_scanned_pdf_is_read_by_ocr_and_every_task_warned() -> None:
    need(external.tesseract_path(), "Tesseract (tesseract-ocr, tesseract-ocr-chi-sim)")
    need(cjk_font_path(), "a CJK font (fonts-wqy-zenhei)")
    pdf = build_image_pdf(notice_path(NAME).read_text(encoding="utf-8"))
    parsed = parse_document(pdf, f"{NAME}.pdf")
    assert parsed.tasks and all(any(w.code == "ocr" for w in t.warnings) for t in parsed.tasks)
    low, wrong = low_fields(parsed, 0.85)
    assert low == {}, wrong


def test_scanned_pdf_without_tesseract_is_refused_naming_the_package(monkeypatch) -> None:
    from tests.ingest.builders import build_scanned_pdf

    monkeypatch.setattr(external.shutil, "which", lambda name: None)
    with pytest.raises(NoticeParseError) as info:
        read_notice(build_scanned_pdf(), "scan.pdf")
    assert info.value.code == "converter_missing" and "tesseract-ocr-chi-sim" in info.value.message
