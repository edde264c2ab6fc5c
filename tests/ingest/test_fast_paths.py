"""The speed rewrites of regexes and splitters give exactly what the readable forms gave."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from services.ingest.parsing import assignments, normalise

# The forms before the rewrite, kept here as the specification.
WIDE_SPACE = re.compile(rf"(?<=[{normalise.WIDE}])[ \u3000]+|[ \u3000]+(?=[{normalise.WIDE}])")
INLINE_PAGE = re.compile(r"(?<!\d)[—－–]{1,2}[ \t]*\d{1,3}[ \t]*[—－–]{1,2}(?!\d)")
INLINE_HYPHEN_PAGE = re.compile(r"(?<=\S)[ \t]+-[ \t]+\d{1,3}[ \t]+-(?:[ \t]+|$)")
LEADER_LABEL = r"(?:牵头|责任|分管|联系|包保)(?:市|区|县)?(?:级)?领导|责任人"
LABEL = re.compile(
    rf"(?P<label>{LEADER_LABEL}|{assignments.HOST_LABEL}|{assignments.CO_LABEL}|{assignments.MIXED_LABEL}"
    rf"|{assignments.DEADLINE_LABEL})\s*(?:\*\*)?\s*[:：]"
)

_SPACING = [
    " ",
    "\u3000",
    "\t",
    "\n",
    "—",
    "－",
    "–",
    "-",
    "1",
    "23",
    "。",
    "a",
    "**",
    "（",
    "）",
    "(",
    ")",
    "、",
    "，",
]
_WORDS = ["牵头", "责任", "领导", "人", "单位", "区", "市", "县", "级", "：", ":", "承办", "#", "• ", "第", "页", "等"]
_pieces = st.sampled_from([*_SPACING, *_WORDS])
_texts = st.lists(_pieces, max_size=40).map("".join)


@settings(max_examples=300, deadline=None)
@given(_texts)
def test_rewritten_normaliser_regexes_match_the_originals(text: str) -> None:
    assert normalise._WIDE_SPACE_RE.sub("", text) == WIDE_SPACE.sub("", text)
    assert normalise._INLINE_PAGE_RE.sub("", text) == INLINE_PAGE.sub("", text)
    assert normalise._INLINE_HYPHEN_PAGE_RE.sub("", text) == INLINE_HYPHEN_PAGE.sub("", text)


@settings(max_examples=300, deadline=None)
@given(_texts)
def test_rewritten_label_regex_matches_the_original(text: str) -> None:
    def spans(pattern: re.Pattern[str]) -> list[tuple[tuple[int, int], str]]:
        return [(m.span(), m.group("label")) for m in pattern.finditer(text)]

    assert spans(assignments.LABEL_RE) == spans(LABEL)


@settings(max_examples=300, deadline=None)
@given(_texts, st.sampled_from(["，,；;", "、", "，,；;、"]))
def test_split_without_parens_matches_the_character_loop(text: str, seps: str) -> None:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in assignments.OPEN:
            depth += 1
        elif ch in assignments.CLOSE:
            depth = max(0, depth - 1)
        elif ch in seps and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    assert assignments.split_outside_parens(text, seps) == parts


def _halfwidth_in_two_passes(text: str) -> str:
    translate = re.compile("[" + re.escape("".join(normalise._TRANSLATION)) + "]")
    text = translate.sub(lambda m: normalise._TRANSLATION[m.group()], text)
    compat = re.compile("[\u2f00-\u2fdf\u2e80-\u2eff\uf900-\ufaff]")
    return compat.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)


_MAPPED_PIECES = [*normalise._TRANSLATION, "⼀", "⼾", "⺠", "\uf900", "\ufa0e", "戶", "兗", "a", "。", " "]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_MAPPED_PIECES), max_size=30).map("".join))
def test_one_pass_halfwidth_matches_translate_then_nfkc(text: str) -> None:
    assert normalise.to_halfwidth_alnum(text) == _halfwidth_in_two_passes(text)
