"""Quantitative targets (目标数) in one cleaned task text: `新增高企30家` → 30 家.

The rules follow the gold conventions (shared/gold/README.md, "quantities"):

* every Arabic-numeral number written right before a measure unit is a quantity; the unit keeps
  its magnitude prefix (`万亩`, `亿元`, `万人次`), bare `亿`/`万` count as units (`突破2000亿`);
* a range `1-2个` gives `value` = low bound and `value_max` = high bound; `余`/`多` between number
  and unit (`3550余场`) is dropped from the unit and kept as the qualifier;
* not quantities: Chinese numerals, numbers inside quoted names (`"八抓20条"`, `“1+N”`), codes and
  names glued to Latin letters (S104, G237, 5G, 4A级, PM2.5), ordinals (`第5代`), ranks without a
  unit (`全市前5`), durations and dates (`3年左右`, `3个月`, `2023年`), `N大…` counts and voltages
  (`220千伏`): none of these is followed by a unit from the list below;
* a repeat that only restates a target (`5%以上（含5%）`, `达到5%，或未达到5%则…`) is dropped.

The matcher is one compiled regex anchored on a digit with bounded alternations, so it runs in
linear time on any input.
"""

from __future__ import annotations

import re
from bisect import bisect_right

from proto.notice import Quantity
from services.common.params import is_amount

# Units that only make sense after a magnitude prefix: a bare `45度` is an angle or a temperature.
_PREFIX_ONLY_UNITS = ("度", "方")
_MAGNITUDES = ("万亿", "千万", "百万", "十万", "亿", "万")
_BASE_UNITS = (
    "个百分点",
    "百分点",
    "个位次",
    "位次",
    "平方公里",
    "平方千米",
    "平方米",
    "平米",
    "立方米",
    "吨公里",
    "千瓦时",
    "千瓦",
    "千米",
    "千克",
    "公里",
    "公顷",
    "公斤",
    "蒸吨",
    "标箱",
    "人次",
    "户次",
    "家次",
    "车次",
    "架次",
    "美元",
    "欧元",
    "港元",
    "日元",
    "GWh",
    "MWh",
    "kWh",
    "KWh",
    "GWp",
    "MWp",
    "kWp",
    "GW",
    "MW",
    "kW",
    "KW",
    "TEU",
    "km",
    "%",
    "‰",
    "元",
    "吨",
    "斤",
    "亩",
    "米",
    "瓦",
    "个",
    "家",
    "项",
    "条",
    "座",
    "处",
    "所",
    "名",
    "人",
    "场",
    "张",
    "户",
    "套",
    "台",
    "件",
    "次",
    "类",
    "辆",
    "栋",
    "间",
    "盏",
    "株",
    "棵",
    "头",
    "只",
    "艘",
    "批",
    "支",
    "块",
    "宗",
    "份",
    "篇",
    "种",
    "款",
    "床位",
    "片",
    "期",
    "届",
    "轮",
    "倍",
)
# Magnitudes combine with amounts and counts, not with ratios or Latin units (`5万%` is no unit).
_NO_MAGNITUDE = frozenset({"个百分点", "百分点", "个位次", "位次", "%", "‰", "倍"})

_NUMBER = r"\d++(?:\.\d++)?+"
# The first digit comes before the lookbehind that rejects a run entered in the middle (`1.2.3`,
# S104, PM2.5): a pattern that opens with a digit class lets the engine skip ahead to the next
# digit, and the lookbehind keeps a long digit run without a unit from being retried at each digit.
_FIRST_NUMBER = r"\d(?<![\d.A-Za-z_]\d)\d*+(?:\.\d++)?+"
_RANGE_SEP = r"[-－~～至到—–]"

# A unit character that starts a common noun is no unit there: `50亿项目` is 50 亿 of a project,
# `10亿人民币` is 10 亿, `3场景` and `5处置` are not counts.
_NOT_UNIT_BEFORE = {
    "项": "目",
    "人": "民",
    "家": "庭",
    "场": "景所馆",
    "处": "置理",
    "所": "属在有",
    "座": "谈",
    "台": "账阶",
    "条": "例件",
    "支": "持撑付",
    "份": "额",
    "种": "植养子",
    "片": "区",
    "头": "部",
    "期": "间末限",
    "轮": "胎",
}


def _unit_strings() -> list[str]:
    combinable = [u for u in _BASE_UNITS if u not in _NO_MAGNITUDE and not u.isascii()]
    combined = [m + u for m in _MAGNITUDES for u in (*combinable, *_PREFIX_ONLY_UNITS)]
    return [*_BASE_UNITS, *_MAGNITUDES, *combined]


def _trie_pattern(words: list[str]) -> str:
    """A regex matching the longest of `words`, built as a trie so a failed unit costs a few steps.

    A flat alternation of some 900 units would be tried one by one after every digit.
    """
    trie: dict[str, dict] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}
    return _node_pattern(trie, "")


def _node_pattern(node: dict[str, dict], last: str) -> str:
    branches = [re.escape(char) + _node_pattern(child, char) for char, child in node.items() if char]
    if "" in node:
        stop = _NOT_UNIT_BEFORE.get(last)
        branches.append(f"(?![{stop}])" if stop else "")
    if len(branches) == 1:
        return branches[0]
    return "(?:" + "|".join(branches) + ")"


_UNIT_WORDS = _unit_strings()
# The lookahead rejects most non-units in one step, before the trie's branches are tried.
_UNIT = "(?=[" + "".join(sorted({re.escape(u[0]) for u in _UNIT_WORDS})) + "])" + _trie_pattern(_UNIT_WORDS)
_QUANTITY = re.compile(
    rf"(?P<low>{_FIRST_NUMBER})"
    rf"(?:(?:{_UNIT})?{_RANGE_SEP}(?P<high>{_NUMBER}))?"
    rf"(?P<approx>余|多)?"
    rf"(?P<unit>{_UNIT})"
)

# A unit glued to a Latin letter or digit is part of a code (`5GW` is fine, `5GWx1` is not).
_AFTER_ASCII_UNIT = re.compile(r"[A-Za-z0-9]")
# 3个月, 5个工作日: a duration, not a count.
_NOT_A_COUNT_AFTER_GE = re.compile(r"(?:月|工作日|小时|季度|星期|年)")
# `第5代`, `第3个`: an ordinal. A rank such as `全市前5` has no unit, and `前100项` is a count.
_ORDINAL_BEFORE = ("第",)

_QUOTED = re.compile(r"“[^“”]{0,40}”|\"[^\"]{0,40}\"|《[^《》]{0,60}》|「[^「」]{0,40}」|『[^『』]{0,40}』")
_RESTATEMENT_BEFORE = re.compile(r"(?:不含|含|未达到|未达|未完成|低于|不足)$")
_RESTATEMENT_LAST = frozenset("含到达成于足")
_PREFIX_QUALIFIERS = re.compile(
    r"(?:力争|突破|超过|超|过|达到|达|不低于|不少于|不超过|控制在|稳定在|保持在|约|近|累计)$"
)
_SUFFIX_QUALIFIER = re.compile(r"(?:以上|以下|以内|之内|左右|及以上|及以下)")
_BREAKS = r"[，,、；;。：:！？!?（）()\[\]【】]"
# Greedy `.*` then a break: a match ends right after the last break before the end position.
_LAST_CLAUSE_BREAK = re.compile(rf"(?s:.*){_BREAKS}")
_LAST_SENTENCE_END = re.compile(r"(?s:.*)[。；;！？!?]")
_LEADING_NOISE = re.compile(r"^(?:年内|全年|上半年|下半年|年底前|年底|力争|确保|其中|争取到|并|和|及|共)+")
_NOUN_TAIL = re.compile(r"[^，,、；;。：:！？!?（）()\[\]【】\d和及与等]{1,12}")
_CLASSIFIERS = frozenset("个家项条座处所名张户套台件类辆栋间盏株棵头只艘批支块宗份篇种款片期届轮") | {"床位"}
_FULLWIDTH_CHARS = re.compile("[０-９．％]")
_WHITESPACE = re.compile(r"\s+")
_DIGIT = re.compile(r"\d")
# Context examined around a number, bounded so that the work per match is too.
_CLAUSE_WINDOW = 36
_SENTENCE_WINDOW = 200


def extract_quantities(text: str) -> list[Quantity]:
    """Every quantitative target of a cleaned task text, in order of appearance."""
    # A quantity opens on `\d`; flattening only drops whitespace and maps digits to digits, so
    # a text without any `\d` has none (about half the tasks).
    if not _DIGIT.search(text):
        return []
    flat = _flatten(text)
    quoted = [m.span() for m in _QUOTED.finditer(flat)]
    quoted_starts = [start for start, _ in quoted]
    found: list[Quantity] = []
    kept: list[tuple[int, float, str]] = []
    previous_end = 0
    for match in _QUANTITY.finditer(flat):
        start = match.start()
        if (quoted and _inside(quoted, quoted_starts, start)) or not _is_measure(flat, match):
            continue
        low, high, unit = match.group("low", "high", "unit")
        value = float(low)
        # A digit run of hundreds of characters is noise, not a target (and float() makes it inf).
        if not is_amount(value) or (high and not is_amount(float(high))):
            continue
        if _is_restatement(flat, start, value, unit, kept):
            continue
        kept.append((start, value, unit))
        clause = _clause_start(flat, start)
        # The bound word right after the number serves both the phrase and the qualifier.
        suffix = _SUFFIX_QUALIFIER.match(flat, match.end())
        found.append(
            Quantity(
                text=_phrase(flat, match, max(clause, previous_end), suffix),
                value=value,
                unit=unit,
                value_max=float(high) if high else None,
                qualifier=_qualifier(flat, match, clause, suffix),
            )
        )
        previous_end = match.end()
    return found


def _flatten(text: str) -> str:
    # One character for one keeps every offset; a regex beats str.translate on CJK text.
    # `"".join(split())` drops exactly what `\s` matches (both test str.isspace), only faster.
    return _FULLWIDTH_CHARS.sub(_half_width, "".join(text.split()))


def _half_width(match: re.Match[str]) -> str:
    return chr(ord(match.group()) - 0xFEE0)


def _inside(spans: list[tuple[int, int]], starts: list[int], pos: int) -> bool:
    i = bisect_right(starts, pos) - 1
    return i >= 0 and pos < spans[i][1]


def _is_measure(text: str, match: re.Match[str]) -> bool:
    """Whether the number is a measured amount rather than a code, ordinal or duration."""
    start, end, unit = match.start(), match.end(), match["unit"]
    if start and text[start - 1] in _ORDINAL_BEFORE:
        return False
    if unit[-1].isascii() and unit[-1].isalpha() and _AFTER_ASCII_UNIT.match(text, end):
        return False
    return not (unit.endswith("个") and _NOT_A_COUNT_AFTER_GE.match(text, end))


def _is_restatement(text: str, start: int, value: float, unit: str, kept: list[tuple[int, float, str]]) -> bool:
    """`5%以上（含5%）`: a repeat of a target of the same sentence behind 含 / 未达到 is no new target."""
    # Each word of _RESTATEMENT_BEFORE ends in one of these: test that before calling the regex.
    if not start or text[start - 1] not in _RESTATEMENT_LAST:
        return False
    if not _RESTATEMENT_BEFORE.search(text, max(0, start - 4), start):
        return False
    sentence = _sentence_start(text, start)
    for pos, seen_value, seen_unit in reversed(kept):
        if pos < sentence:
            return False
        if (seen_value, seen_unit) == (value, unit):
            return True
    return False


def _sentence_start(text: str, pos: int) -> int:
    lo = max(0, pos - _SENTENCE_WINDOW)
    found = _LAST_SENTENCE_END.match(text, lo, pos)
    return found.end() if found else lo


def _clause_start(text: str, pos: int) -> int:
    lo = max(0, pos - _CLAUSE_WINDOW)
    found = _LAST_CLAUSE_BREAK.match(text, lo, pos)
    return found.end() if found else lo


def _qualifier(text: str, match: re.Match[str], clause: int, suffix: re.Match[str] | None) -> str | None:
    """The bound word nearest the number: a suffix (以上, 左右) says more than a prefix (突破, 力争)."""
    if suffix:
        return suffix.group()
    if match["approx"]:
        return match["approx"]
    head = text[max(0, match.start() - 4) : match.start()]
    prefix = _PREFIX_QUALIFIERS.search(head)
    if prefix:
        return prefix.group()
    return "力争" if "力争" in text[clause : match.start()] else None


def _phrase(text: str, match: re.Match[str], clause: int, suffix: re.Match[str] | None) -> str:
    """The shortest phrase naming the counted thing.

    A classifier is usually followed by its noun (`10个项目`); an amount of money, mass or energy
    is usually preceded by what it measures (`完成投资100亿元`). Either side stands in when the other
    is empty. `clause` is where the phrase may start at the earliest; `suffix` is the bound word
    after the number, if any.
    """
    start, end = match.span()
    after = suffix.end() if suffix else end
    if after < len(text) and text[after] == "的":
        after += 1
    tail = _NOUN_TAIL.match(text, after)
    if tail and _looks_like_verb(tail.group()):
        tail = None
    head = _LEADING_NOISE.sub("", text[clause:start])
    if tail and (match["unit"] in _CLASSIFIERS or not head):
        return text[start : tail.end()]
    return head + text[start:end]


# A noun phrase after a count (`10个项目`) vs a verb phrase (`30家，突破200家` has none,
# `10个以上，确保…` neither); cheap heuristic on the first character.
_VERB_STARTS = frozenset("实推完开建达突增提新加确力争年到和及、等或并再")


def _looks_like_verb(tail: str) -> bool:
    return tail[0] in _VERB_STARTS
