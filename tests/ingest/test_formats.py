"""The same notice as .docx and .pdf parses within 1% of the .txt parse, field by field."""

from __future__ import annotations

import pytest

from services.ingest.parsing.api import parse_document
from tests.ingest.builders import build_docx, build_pdf
from tests.ingest.gold import NOTICES, accuracies, differs, load_gold, notice_path, score, txt_accuracies

BUILDERS = {"docx": build_docx, "pdf": build_pdf}


@pytest.mark.parametrize("kind", sorted(BUILDERS))
@pytest.mark.parametrize("name", NOTICES)
def test_docx_and_pdf_score_within_one_percent_of_txt(name: str, kind: str) -> None:
    text = notice_path(name).read_text(encoding="utf-8")
    parsed = parse_document(BUILDERS[kind](text), f"{name}.{kind}")
    got = accuracies(score(parsed, load_gold(name)))
    reference = txt_accuracies(name)
    print(f"\n{name}.{kind}: " + ", ".join(f"{k} {v:.3f}" for k, v in sorted(got.items())))
    assert differs(got, reference) == {}, name
