"""The rules file: documented defaults, reloaded on change, a bad file refused with the last good kept."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from services.notify.rules import DEFAULT_FILE, RuleBook, Rules, parse_rules


def _write(path: Path, text: str, stamp: int) -> None:
    path.write_text(text, encoding="utf-8")
    os.utime(path, (stamp, stamp))  # a distinct mtime, as an edit minutes later would have


def test_the_shipped_file_is_the_documented_defaults() -> None:
    assert parse_rules(DEFAULT_FILE.read_text(encoding="utf-8")) == Rules()


def test_changes_are_picked_up_and_bad_files_keep_the_last_good_rules(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    _write(path, "chase:\n  repeat_after: [2, 4]\n", 1_000)
    book = RuleBook.load(path)
    assert book.current().chase.repeat_after == (2, 4) and book.error is None

    _write(path, "chase: [unclosed\n", 2_000)
    assert book.current().chase.repeat_after == (2, 4)
    assert book.error and "not YAML" in book.error

    _write(path, "rules:\n  nagging: true\n", 3_000)
    assert book.current().chase.repeat_after == (2, 4)
    assert book.error and "rules.nagging" in book.error

    _write(path, "escalate:\n  head_after: 0\n", 4_000)
    assert book.current().escalate.head_after == 5 and "head_after" in (book.error or "")

    _write(path, "chase:\n  repeat_after: [1]\nrules:\n  advance_due: false\n", 5_000)
    rules = book.current()
    assert (rules.chase.repeat_after, rules.on("advance_due"), book.error) == ((1,), False, None)


def test_a_missing_file_keeps_the_rules_and_says_so(tmp_path: Path) -> None:
    book = RuleBook.load(tmp_path / "absent.yaml")
    assert book.current() == Rules() and book.error and "cannot read" in book.error


@pytest.mark.parametrize("text", ["[1, 2]", "chase:\n  repeat_after: [0]\n", "office:\n  name: ''\n"])
def test_bad_values_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_rules(text)
