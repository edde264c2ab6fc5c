"""The parser against the five hand-checked notices (run with `pytest -s` to see the tables)."""

from __future__ import annotations

import pytest

from services.ingest.parsing.parser import parse_text
from tests.ingest.gold import (
    ASSERTED_FIELDS,
    NOTICES,
    accuracies,
    differs,
    format_table,
    format_wrong,
    load_gold,
    notice_path,
    score,
    txt_accuracies,
)


@pytest.fixture(scope="module", params=NOTICES)
def scored(request):
    name = request.param
    parsed = parse_text(notice_path(name).read_text(encoding="utf-8"), source_name=name)
    result = score(parsed, load_gold(name))
    print("\n" + format_table(name, result))
    return name, result


def test_every_task_found_and_no_extra(scored):
    name, result = scored
    assert result["tasks"]["missing"] == [], name
    assert result["tasks"]["extra"] == [], name


def test_doc_fields_exact(scored):
    name, result = scored
    wrong = {f: (v["got"], v["want"]) for f, v in result["doc"].items() if not v["ok"]}
    assert wrong == {}, name


def test_chapter_titles_exact(scored):
    name, result = scored
    assert result["chapter_titles"]["ok"], (name, result["chapter_titles"]["diff"])


@pytest.mark.parametrize("field", ASSERTED_FIELDS)
def test_assignment_fields_exact(scored, field):
    name, result = scored
    assert accuracies(result)[field] == 1.0, f"{name}\n" + format_wrong(result, [field])


def test_scorer_notices_a_wrong_parse():
    name = NOTICES[-1]
    parsed = parse_text(notice_path(name).read_text(encoding="utf-8"))
    parsed.tasks[44].host_units = ["市科技", "人才招引工作指挥部"]
    del parsed.tasks[3]
    result = score(parsed, load_gold(name))
    assert result["tasks"]["missing"] == [4]
    assert differs(accuracies(result), txt_accuracies(name)) != {}
    assert (45, ["人才招引工作指挥部", "市科技"], ["市科技、人才招引工作指挥部"]) in result["fields"]["host_units"][
        "wrong"
    ]
