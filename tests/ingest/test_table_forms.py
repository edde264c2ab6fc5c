"""The shared notices re-laid as other offices' task tables, scored against the same gold."""

from __future__ import annotations

import pytest

from services.ingest.parsing.api import parse_document
from tests.ingest.gold import ASSERTED_FIELDS, NOTICES, accuracies, format_wrong, load_gold, score
from tests.ingest.table_forms import FORMS, source

TARGET = 0.98


def _parse(name: str, form: str):
    ext, build = FORMS[form]
    return parse_document(build(source(name)), f"{name}.{ext}")


@pytest.mark.parametrize("form", sorted(FORMS))
@pytest.mark.parametrize("name", NOTICES)
def test_table_form_scores_on_the_gold(name: str, form: str) -> None:
    parsed = _parse(name, form)
    result = score(parsed, load_gold(name))
    got = accuracies(result)
    print(f"\n{name} {form}: " + ", ".join(f"{k} {got[k]:.3f}" for k in ["tasks_found", *ASSERTED_FIELDS]))
    assert result["tasks"]["extra"] == [], (form, result["tasks"]["extra"])
    low = {k: got[k] for k in ["tasks_found", *ASSERTED_FIELDS] if got[k] < TARGET}
    assert low == {}, f"{name} {form} missing={result['tasks']['missing'][:10]}\n" + format_wrong(
        result, [k for k in low if k in result["fields"]]
    )
