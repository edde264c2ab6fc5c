"""Plain, explainable text similarity: TF-IDF over character bigrams, shared phrases, shared targets.

No model is downloaded; every score can be explained by the phrases and quantities two tasks
share, which is what the office sees as evidence.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

_NOT_WORD = re.compile(r"[\W_]+")
_DIGITS = re.compile(r"[\d.．]+")
# Phrases every work report uses; sharing them says nothing about the subject.
_BOILERPLATE = ("加快", "推进", "推动", "实施", "建设", "持续", "全力", "积极", "加强", "提升", "深入", "开展")


def strip(text: str) -> str:
    return _NOT_WORD.sub("", text)


def bigrams(text: str) -> Counter[str]:
    body = strip(text)
    return Counter(body[i : i + 2] for i in range(len(body) - 1))


# Verbs and levels around a counted noun: 新增国家级高新技术企业4家 and 净增高企25家 count one thing.
_TARGET_AFFIXES = re.compile(
    r"^(?:力争|确保|全年|年内)?(?:新增|净增|新培育|培育|入库|备案|达到|累计|突破|新建|建成|引育|认定|新认定)?"
    r"(?:国家级|国家|省级以上|省级|市级以上|市级)?"
)
_TARGET_FOLDS = (("高企", "高新技术企业"), ("规上", "规模以上"), ("专精特新中小企业", "专精特新企业"))


def target_nouns(quantities: Iterable[dict[str, Any]]) -> set[str]:
    """What each target counts, folded: {高新技术企业} for 新增高企30家; nouns shorter than 4 are too vague."""
    out = set()
    for q in quantities:
        text = _DIGITS.split(str(q.get("text", "")))[0]
        for long, short in _TARGET_FOLDS:
            text = text.replace(long, short)
        noun = _TARGET_AFFIXES.sub("", strip(text))
        if len(noun) >= 4:
            out.add(noun)
    return out


def quantity_stems(quantities: Iterable[dict[str, Any]]) -> set[tuple[str, str]]:
    """(stem, unit) of each target: 新增营收200亿元 and 新增营收140亿元 share (新增营收亿元, 亿元)."""
    out = set()
    for q in quantities:
        stem = _DIGITS.sub("", str(q.get("text", "")))
        unit = str(q.get("unit", ""))
        if len(stem.replace(unit, "")) >= 2:
            out.add((stem, unit))
    return out


@dataclass
class Doc:
    key: str
    text: str
    quantities: list[dict[str, Any]] = field(default_factory=list)
    vector: dict[str, float] = field(default_factory=dict)
    norm: float = 0.0


class Corpus:
    """IDF weights from every live task, so words all tasks share weigh little."""

    def __init__(self, texts: Iterable[str]) -> None:
        df: Counter[str] = Counter()
        n = 0
        for text in texts:
            n += 1
            df.update(set(bigrams(text)))
        self._n = max(n, 1)
        self._df = df

    def idf(self, gram: str) -> float:
        return math.log((1 + self._n) / (1 + self._df.get(gram, 0))) + 1.0

    def doc(self, key: str, text: str, quantities: list[dict[str, Any]] | None = None) -> Doc:
        counts = bigrams(text)
        vector = {g: (1 + math.log(c)) * self.idf(g) for g, c in counts.items()}
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        return Doc(key=key, text=text, quantities=quantities or [], vector=vector, norm=norm)


def cosine(a: Doc, b: Doc) -> float:
    small, large = (a, b) if len(a.vector) <= len(b.vector) else (b, a)
    dot = sum(w * large.vector.get(g, 0.0) for g, w in small.vector.items())
    return dot / (a.norm * b.norm)


def coverage(a: Doc, b: Doc) -> float:
    """How much of `a`'s weighted bigrams `b` holds: a short city task inside a long district one."""
    total = sum(a.vector.values()) or 1.0
    return sum(w for g, w in a.vector.items() if g in b.vector) / total


def shared_phrases(a: str, b: str, *, min_len: int = 4, top: int = 6) -> list[str]:
    """The longest runs of characters both texts hold, boilerplate-only runs left out."""
    left, right = strip(a), strip(b)
    blocks = SequenceMatcher(None, left, right, autojunk=False).get_matching_blocks()
    phrases = {left[m.a : m.a + m.size] for m in blocks if m.size >= min_len}
    useful = [p for p in phrases if _strip_boilerplate(p)]
    return sorted(useful, key=lambda p: (-len(p), p))[:top]


def _strip_boilerplate(phrase: str) -> str:
    for word in _BOILERPLATE:
        phrase = phrase.replace(word, "")
    return phrase if len(phrase) >= 3 else ""


def shared_targets(a: Doc, b: Doc) -> list[str]:
    """Targets measured the same way in both tasks, written as the first task's stem."""
    left, right = quantity_stems(a.quantities), quantity_stems(b.quantities)
    return sorted({stem for stem, _unit in left & right} | shared_nouns(a, b))


def shared_nouns(a: Doc, b: Doc) -> set[str]:
    return target_nouns(a.quantities) & target_nouns(b.quantities)
