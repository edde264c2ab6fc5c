"""Leaders, host units and co-units of one task, in every layout the notices use.

Layouts: inline `（牵头领导：…。承办单位：…）` (either paren or colon width, a half-width `)`
may close a full-width `（`), inline `（牵头单位：…）`, separate label lines, unlabelled unit
lists `（区发改局、农业局）`, and table cells. Every fallback rule applied becomes a
`ParseWarning` so the office knows which tasks to check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from proto.notice import ParseWarning
from services.ingest.parsing.normalise import no_space, strip_bold

# `(?:牵头|责任|分管|联系|包保)(?:市|区|县)?(?:级)?领导|责任人`, spelt out so that every
# alternative of LABEL_RE opens on a literal: the engine then scans for those first characters
# instead of trying the whole alternation at each position (about 7 times faster per block).
LEADER_LABEL = (
    "|".join(f"{head}(?:市|区|县)?(?:级)?领导" for head in ("牵头", "责任", "分管", "联系", "包保")) + "|责任人"
)
HOST_LABEL = r"牵头责任单位|牵头单位|牵头部门|主办单位|主责单位"
CO_LABEL = r"配合单位|参与单位|协办单位|协同单位|配合部门|协办部门"
MIXED_LABEL = r"承办单位|责任单位|责任部门"
DEADLINE_LABEL = r"完成时限|完成时间|时间节点|时限要求"
LABEL_RE = re.compile(
    rf"(?P<label>{LEADER_LABEL}|{HOST_LABEL}|{CO_LABEL}|{MIXED_LABEL}|{DEADLINE_LABEL})\s*(?:\*\*)?\s*[:：]"
)
_KIND = [
    ("leaders", re.compile(LEADER_LABEL)),
    ("hosts", re.compile(HOST_LABEL)),
    ("co", re.compile(CO_LABEL)),
    ("deadline", re.compile(DEADLINE_LABEL)),
    ("chengban", re.compile("承办单位")),
    ("mixed", re.compile(MIXED_LABEL)),
]

BOLD_DECLARATION_RE = re.compile(
    r"(?:黑体|加粗|粗体)(?:字)?(?:的|标注的|部分)?(?:单位)?(?:为|是|表示)(?:主办|牵头|主责)(?:单位|部门)"
)
FIRST_UNIT_DECLARATION_RE = re.compile(
    r"(?:第一|首位|第1|首个)[\u4e00-\u9fff]{0,6}?(?:为|是)(?:牵头|主办|主责)(?:单位|部门)"
)

OPEN, CLOSE = "（(", "）)"
_GROUP_SEPS = "，,；;"
_ITEM_SEPS = "、"
_TRAIL_PUNCT = "。.，,；;：:、 \t\n"

# A unit name ends in one of these characters; a fragment that does not (市科技) is part of the
# next one. A set lookup of the last character: `endswith` over the tuple tries each in turn.
_UNIT_SUFFIXES = frozenset(
    "局委办部院室会司台团社联组行街道镇乡村县市区府心构班队门位关协校站所厂处科馆署厅园港场中心公司集团政府指挥部）)等"
)
_GENERIC_RE = re.compile(r"^(?:单位|部门|机构|企业|企事业单位|人员|社会组织|组织)$")
COLLECTIVE_RE = re.compile(
    r"^(?:各|相关|有关|其他|其它|全体)|(?:直|政府|市|区|县)(?:各|相关|有关)|成员单位$|各(?:部门|单位)"
)
_SHARED_SUFFIXES = ("政府", "管委会", "政府（管委会）", "管委会（管委会）")
_BARE_PLACES = ("市", "县", "区")
_SHARED_ETC_RE = re.compile(r"等[县市区各]")
_UNIT_LIST_ITEM_RE = re.compile(r"^[\u4e00-\u9fff“”\"（）()]{2,40}$")


def warn(code: str, message: str) -> ParseWarning:
    return ParseWarning(code=code, message=message)


@dataclass
class Declarations:
    """Notice-level rules declared once (in the cover letter or the first task, 下同)."""

    bold_hosts: bool = False
    first_unit_leads: bool = False

    def absorb(self, text: str) -> None:
        if BOLD_DECLARATION_RE.search(strip_bold(text)):
            self.bold_hosts = True
        if FIRST_UNIT_DECLARATION_RE.search(strip_bold(text)):
            self.first_unit_leads = True


@dataclass
class Assignment:
    leaders: list[str] = field(default_factory=list)
    host_units: list[str] = field(default_factory=list)
    co_units: list[str] = field(default_factory=list)
    has_etc: bool = False
    deadline_text: str | None = None
    warnings: list[ParseWarning] = field(default_factory=list)
    found: bool = False

    def add_warning(self, code: str, message: str) -> None:
        if all(w.code != code for w in self.warnings):
            self.warnings.append(warn(code, message))


# -- splitting the task block into text and assignment ----------------------------------------


def _matching_close(text: str, open_pos: int) -> int:
    """Index of the paren closing the one at open_pos (either width), or -1."""
    depth = 0
    for i in range(open_pos, len(text)):
        ch = text[i]
        if ch in OPEN:
            depth += 1
        elif ch in CLOSE:
            depth -= 1
            if depth == 0:
                return i
    return -1


def _looks_like_unit_list(content: str) -> bool:
    items = split_outside_parens(strip_bold(content), _GROUP_SEPS + _ITEM_SEPS)
    items = [i.strip() for i in items if i.strip()]
    if not items:
        return False
    return all(_UNIT_LIST_ITEM_RE.match(i) and i[-1:] in _UNIT_SUFFIXES for i in items)


def split_block(block: str) -> tuple[str, str | None, str]:
    """(task text, assignment text, form) with form one of inline, lines, unlabelled, none."""
    m = LABEL_RE.search(block)
    if m:
        j = m.start()
        while j > 0 and block[j - 1] in "* \t":
            j -= 1
        if j > 0 and block[j - 1] in OPEN:
            open_pos = j - 1
            close = _matching_close(block, open_pos)
            end = close if close >= 0 else len(block)
            return block[:open_pos], block[open_pos + 1 : end], "inline"
        return block[:j], block[j:], "lines"
    stripped = block.rstrip(" \t。.*")
    if stripped.endswith(tuple(CLOSE)):
        depth = 0
        for i in range(len(stripped) - 1, -1, -1):
            ch = stripped[i]
            if ch in CLOSE:
                depth += 1
            elif ch in OPEN:
                depth -= 1
                if depth == 0:
                    content = stripped[i + 1 : -1]
                    if _looks_like_unit_list(content):
                        return block[:i], content, "unlabelled"
                    break
    return block, None, "none"


# -- unit lists -----------------------------------------------------------------------------


def split_outside_parens(text: str, seps: str) -> list[str]:
    if "（" not in text and "(" not in text:
        # No parentheses (the usual list): one regex split instead of a loop over characters.
        return _splitter(seps).split(text)
    # Visit only parentheses and separators, not every character.
    parts: list[str] = []
    depth = 0
    start = 0
    for m in _paren_or_sep(seps).finditer(text):
        ch = m.group()
        if ch in OPEN:
            depth += 1
        elif ch in CLOSE:
            depth = max(0, depth - 1)
        elif depth == 0:
            i = m.start()
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


@dataclass
class UnitList:
    groups: list[list[str]]
    has_etc: bool
    bold_prefix: list[str] | None
    warnings: list[ParseWarning]

    @property
    def units(self) -> list[str]:
        return [u for g in self.groups for u in g]


def _clean_item(item: str) -> str:
    return no_space(item).strip(_TRAIL_PUNCT)


def _merge_fragments(items: list[str], warnings: list[ParseWarning]) -> list[str]:
    """Re-join a 、 that sits inside one name (市科技、人才招引工作指挥部, 各部门、单位)."""
    if len(items) < 2:
        return items
    out: list[str] = []
    i = 0
    while i < len(items):
        item = items[i]
        while i + 1 < len(items):
            nxt = items[i + 1]
            if _GENERIC_RE.match(nxt) or (
                item[-1:] not in _UNIT_SUFFIXES
                and not COLLECTIVE_RE.search(item)
                and nxt[-1:] in _UNIT_SUFFIXES
                and len(item) <= 8
            ):
                if not _GENERIC_RE.match(nxt):
                    warnings.append(warn("merged_name", f"“{item}、{nxt}”按一个单位处理 / kept as one unit name"))
                item = f"{item}、{nxt}"
                i += 1
                continue
            break
        out.append(item)
        i += 1
    return out


def split_units(value: str) -> UnitList:
    """Split a unit list on 、，,；; outside parentheses; a trailing 等 sets has_etc."""
    warnings: list[ParseWarning] = []
    raw = value.strip()
    bold_prefix: list[str] | None = None
    if raw.startswith("**"):
        close = raw.find("**", 2)
        if close > 2:
            after = raw[close + 2 :].lstrip()
            if after and after[0] in _GROUP_SEPS + _ITEM_SEPS:
                bold_prefix = [_clean_item(x) for x in split_outside_parens(raw[2:close], _GROUP_SEPS + "、")]
                bold_prefix = [x for x in bold_prefix if x]
    text = no_space(strip_bold(raw)).strip(_TRAIL_PUNCT)
    has_etc = False
    groups: list[list[str]] = []
    for group in split_outside_parens(text, _GROUP_SEPS):
        items: list[str] = []
        for item in split_outside_parens(group, _ITEM_SEPS):
            item = item.strip(_TRAIL_PUNCT)  # `text` has no whitespace left
            if item.endswith("等") and len(item) > 1:
                item = item[:-1].rstrip(_TRAIL_PUNCT)
                has_etc = True
            if item and item != "等":
                items.append(item)
        items = _merge_fragments(items, warnings)
        if items:
            groups.append(items)
        if len(items) >= 2 and items[-1].endswith(_SHARED_SUFFIXES) and items[-2].endswith(_BARE_PLACES):
            warnings.append(
                warn(
                    "shared_suffix",
                    f"“{'、'.join(items)}”末尾的后缀可能为前列单位共用，已按原文拆分 / shared suffix split as written",
                )
            )
    for unit in (u for g in groups for u in g) if "等" in text else ():
        if "等" in unit[:-1] and _SHARED_ETC_RE.search(unit):
            warnings.append(
                warn("shared_suffix", f"“{unit}”含共用后缀，已按原文保留 / shared suffix kept on the last name")
            )
    if bold_prefix:
        bold_prefix = [u[:-1] if u.endswith("等") else u for u in bold_prefix]
        bold_prefix = _merge_fragments(bold_prefix, [])
    return UnitList(groups=groups, has_etc=has_etc, bold_prefix=bold_prefix or None, warnings=warnings)


def split_people(value: str) -> list[str]:
    text = no_space(strip_bold(value)).strip(_TRAIL_PUNCT)
    out = []
    for item in split_outside_parens(text, _GROUP_SEPS + _ITEM_SEPS):
        item = item.strip(_TRAIL_PUNCT)
        if item.endswith("等") and len(item) > 2:
            item = item[:-1]
        item = _without_title(item)
        if item:
            out.append(item)
    return out


# A post written with the name, `张三（副县长）` or `副县长李四`: the name is the leader.
_POST = r"(?:常务)?副?(?:区|市|县|镇|乡)长|(?:区|市|县)委(?:常委|副?书记)|副?书记|(?:区|市|县)?政府秘书长"
_TITLE_AFTER_RE = re.compile(rf"^([\u4e00-\u9fff·]{{2,4}})[（(](?:{_POST})[)）]$")
_TITLE_BEFORE_RE = re.compile(rf"^(?:{_POST})([\u4e00-\u9fff·]{{2,4}})$")


def _without_title(item: str) -> str:
    m = _TITLE_AFTER_RE.match(item) or _TITLE_BEFORE_RE.match(item)
    return m.group(1) if m else item


# A unit marked as the lead or a helper inside one list: `县发改局（牵头）、县财政局`, `县商务局牵头，各乡镇配合`.
_LEAD_MARK_RE = re.compile(r"[（(]?牵头[)）]?$")
_HELP_MARK_RE = re.compile(r"[（(]?(?:配合|参与|协办|协助)[)）]?$")


def _assign_marked(units: list[str], result: Assignment) -> bool:
    """Hosts and co-units from marks written on the units; False when no unit is marked as the lead."""
    marked = [u for u in units if _LEAD_MARK_RE.search(u) and len(_LEAD_MARK_RE.sub("", u)) >= 2]
    if not marked:
        return False
    for unit in units:
        if unit in marked:
            result.host_units.append(_LEAD_MARK_RE.sub("", unit))
        else:
            result.co_units.append(_HELP_MARK_RE.sub("", unit) or unit)
    return True


# -- assignment parsing ---------------------------------------------------------------------


@cache
def _splitter(seps: str) -> re.Pattern[str]:
    return re.compile("[" + re.escape(seps) + "]")


@cache
def _paren_or_sep(seps: str) -> re.Pattern[str]:
    return re.compile("[" + re.escape(OPEN + CLOSE + seps) + "]")


@cache
def _kind_of(label: str) -> str:
    for kind, pattern in _KIND:
        if pattern.fullmatch(label):
            return kind
    return "mixed"


def labelled_values(text: str) -> list[tuple[str, str]]:
    """(kind, value) pairs in order; a value runs until the next label."""
    matches = list(LABEL_RE.finditer(text))
    out = []
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        value = text[m.end() : end]
        # A bold mark opened before the next label belongs to that label, not to this value.
        value = re.sub(r"\*\*\s*$", "", value) if value.rstrip().endswith("**") and value.count("**") % 2 else value
        out.append((_kind_of(m.group("label")), value))
    return out


def _cut_declaration(value: str, decl: Declarations) -> str:
    m = BOLD_DECLARATION_RE.search(strip_bold(value))
    if not m:
        return value
    decl.bold_hosts = True
    # Cut in the marked-up value at the same place: the first 黑体/加粗/粗体 word.
    cut = re.search(r"黑体|加粗|粗体", value)
    head = value[: cut.start()] if cut else value
    bold_open = head.count("**") % 2 == 1
    head = head.rstrip(_TRAIL_PUNCT + "*")
    return head + ("**" if bold_open and not head.endswith("**") else "")


def _assign_mixed(units: UnitList, decl: Declarations, result: Assignment, label: str) -> None:
    if decl.bold_hosts and units.bold_prefix:
        hosts = units.bold_prefix
        rest = list(units.units)
        for h in hosts:
            if h in rest:
                rest.remove(h)
        result.host_units += hosts
        result.co_units += rest
        return
    if decl.first_unit_leads and units.units:
        result.host_units.append(units.units[0])
        result.co_units += units.units[1:]
        return
    groups = units.groups
    if not groups:
        return
    result.host_units += groups[0]
    for g in groups[1:]:
        result.co_units += g
    if decl.bold_hosts:
        result.add_warning(
            "host_first_group",
            f"已声明黑体为主办单位，但{label}中黑体不能确定主办单位，按第一个逗号前的单位作为主办单位"
            " / bold declared but not usable: host units = first comma group",
        )
    else:
        result.add_warning(
            "host_first_group",
            f"{label}未区分主办与协办，按第一个逗号前的单位作为主办单位 / host units = first comma group",
        )
    if len(groups) == 1:
        result.add_warning(
            "no_comma_all_hosts",
            f"{label}中没有逗号分组，全部单位按主办单位处理 / no comma in the list: every unit is a host",
        )


def parse_assignment(
    text: str | None, form: str, decl: Declarations, *, cells: dict[str, str] | None = None
) -> Assignment:
    """Leaders, hosts and co-units from an assignment text (or table cells)."""
    result = Assignment()
    pairs: list[tuple[str, str]]
    if cells is not None:
        pairs = [
            (k, v) for k, v in cells.items() if k in {"leaders", "hosts", "co", "mixed", "chengban", "deadline"} and v
        ]
    elif text is None:
        return result
    elif form == "unlabelled":
        pairs = [("unlabelled", text)]
    else:
        pairs = labelled_values(text)
    if not pairs:
        return result
    result.found = True
    kinds = {k for k, _ in pairs}
    for kind, value in pairs:
        value = _cut_declaration(value, decl)
        if kind == "leaders":
            result.leaders += split_people(value)
            continue
        if kind == "deadline":
            result.deadline_text = no_space(strip_bold(value)).strip(_TRAIL_PUNCT) or None
            continue
        units = split_units(value)
        result.warnings += units.warnings
        result.has_etc = result.has_etc or units.has_etc
        if kind in {"mixed", "chengban", "unlabelled"} and _assign_marked(units.units, result):
            continue
        if kind == "hosts":
            result.host_units += units.units
        elif kind == "co" or (kind in {"mixed", "chengban"} and "hosts" in kinds):
            result.co_units += units.units
        elif kind == "chengban":
            _assign_mixed(units, decl, result, "承办单位")
        else:
            # 责任单位 standing alone, or an unlabelled list: it names the lead.
            label = "单位列表" if kind == "unlabelled" else "责任单位"
            if decl.bold_hosts or decl.first_unit_leads:
                _assign_mixed(units, decl, result, label)
            else:
                result.host_units += units.units
                result.add_warning(
                    "responsible_as_hosts" if kind != "unlabelled" else "unlabelled_units",
                    f"{label}未区分牵头与配合，全部按主办单位处理 / all listed units taken as host units",
                )
    _flag_collectives(result)
    return result


def _flag_collectives(result: Assignment) -> None:
    collective = [u for u in result.host_units if COLLECTIVE_RE.search(u)]
    if collective:
        result.add_warning(
            "collective_in_hosts",
            f"主办单位中含集合名称（{'、'.join(collective)}） / collective names in host units",
        )


def chapter_leaders(lines: list[str]) -> list[str]:
    """Leaders written once on a chapter heading or right under it, for every task below."""
    for line in lines:
        for kind, value in labelled_values(line):
            if kind == "leaders":
                return split_people(value)
    return []
