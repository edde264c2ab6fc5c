"""Unit names: cleaning, the matching key behind alias resolution, and a guess of the kind.

Pure functions, no I/O. `clean` is what a name becomes before it is stored as a canonical or
provisional name; `match_key` is coarser, folding the official abbreviations into one form so
区科技局 and 区科学技术局 meet in the alias table without an alias row for every pair.
"""

from __future__ import annotations

import re
import unicodedata

_VARIANTS = str.maketrans({"兗": "兖", "(": "（", ")": "）"})
_SPACE = re.compile(r"\s+")
_TRAILING = re.compile(r"(?:[、，,；;。．.]|等)+$")

# Long official forms → the short forms notices also use. Order matters: longer first.
_FOLDS: tuple[tuple[str, str], ...] = (
    ("人力资源和社会保障", "人力资源社会保障"),
    ("人力资源社会保障", "人社"),
    ("科学技术", "科技"),
    ("市场监督管理", "市场监管"),
    ("发展和改革委员会", "发展改革委"),
    ("发展和改革", "发展改革"),
    ("发展改革委员会", "发展改革委"),
    ("住房和城乡建设", "住房城乡建设"),
    ("退役军人事务", "退役军人"),
    ("应急管理局", "应急局"),
    ("医疗保障局", "医保局"),
    ("卫生健康委员会", "卫生健康委"),
    ("管理委员会", "管委会"),
    ("人民政府", "政府"),
)

_COLLECTIVE = re.compile(r"^(?:各|相关|有关|其他|其它)|各部门|成员单位|等县|各单位|各银行|各金融")

_KIND_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"街道(?:办事处)?$"), "street"),
    (re.compile(r"[镇乡](?:政府)?$"), "town"),
    (re.compile(r"(?:指挥部|专班|领导小组|推进办公室)(?:（.*）)?$"), "taskforce"),
    (re.compile(r"(?:公司|集团|银行|支行|分行)$"), "company"),
    (re.compile(r"(?:园区|开发区|高新区|新区|管委会|示范区|服务中心)$"), "park"),
    (re.compile(r"^[^局委办]{1,6}[县区市](?:政府)?$"), "county_government"),
    (re.compile(r"(?:局|委|办|中心|部|院|社|所|队|台|联|会|站|处|分局|支局|监管组)$"), "bureau"),
)


def clean(name: str) -> str:
    """The name as stored: variants mapped, spaces dropped, a trailing 等 or stray comma cut."""
    text = unicodedata.normalize("NFKC", name).translate(_VARIANTS)
    text = _SPACE.sub("", text)
    return _TRAILING.sub("", text)


def match_key(name: str) -> str:
    """The key two spellings of one unit share: `clean` plus the abbreviation folds."""
    text = clean(name)
    for long, short in _FOLDS:
        text = text.replace(long, short)
    return text


def is_collective(name: str) -> bool:
    """True for names that stand for several units: 各镇街, 区直相关部门, …等县（市、区）政府."""
    text = clean(name)
    return bool(_COLLECTIVE.search(text)) or text.endswith(("相关部门", "各部门", "有关部门"))


def guess_kind(name: str) -> str:
    """A first guess of a provisional unit's kind from its suffix; the office corrects it."""
    text = clean(name)
    if is_collective(text):
        return "group"
    for pattern, kind in _KIND_RULES:
        if pattern.search(text):
            return kind
    return "other"
