"""Document header: 文号, issuer, title, year, signature date, addressees, main indicators."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from proto.notice import DocHeader, Indicator
from services.common.params import is_amount
from services.ingest.parsing.normalise import compact, squash_spaces, strip_bold

_DOC_NO_RE = re.compile(r"([\u4e00-\u9fff]{1,12}?)\s*[〔\[［【(（]\s*((?:19|20)\d{2})\s*[〕\]］】)）]\s*(\d{1,4})\s*号")
_DATE_CORE = r"((?:19|20)\d{2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"
_DATE_LINE_RE = re.compile(rf"^(?P<org>[\u4e00-\u9fff（）()]{{0,30}}?)\s*{_DATE_CORE}\s*$")
_PRINTED_RE = re.compile(r"印\s*发\s*$")
_MASTHEAD_RE = re.compile(r"^(.{2,30}?)文件$")
_ISSUER_SUFFIX_RE = re.compile(r"(人民政府办公室|人民政府办公厅|人民政府|政府办公室|委员会|办公室|管委会|政府)$")
_TITLE_END_RE = re.compile(r"(通知|通报|意见|方案|决定|函)$")
_ADDRESSEE_SPLIT_RE = re.compile(r"[，,；;](?![^（(]*[）)])")


@dataclass
class HeaderResult:
    doc: DocHeader
    title_end: int  # index of the line after the title block (the body starts after it)


def normalise_doc_no(raw: str) -> str | None:
    m = _DOC_NO_RE.search(compact(raw))
    if not m:
        return None
    return f"{m.group(1)}〔{m.group(2)}〕{int(m.group(3))}号"


def parse_date(text: str) -> date | None:
    m = re.search(_DATE_CORE, text)
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def _find_title(lines: list[str], start: int, limit: int) -> tuple[str | None, str | None, int]:
    """Issuer and title from the block holding 关于…通知; returns (issuer, title, next index)."""
    for i in range(start, min(limit, len(lines))):
        line = compact(lines[i])
        pos = line.find("关于")
        if pos < 0 or len(line) > 120:
            continue
        issuer = line[:pos] or None
        if issuer is None and i > 0:
            prev = compact(lines[i - 1])
            if _ISSUER_SUFFIX_RE.search(prev) and not _DOC_NO_RE.search(prev):
                issuer = prev
        title = line[pos:]
        j = i + 1
        # The title wraps over lines (and `通     知` is spaced out); stop at the addressee line.
        while not _TITLE_END_RE.search(title) and j < min(i + 5, len(lines)):
            nxt = compact(lines[j])
            if nxt.endswith((":", "：")) or len(nxt) > 60:
                break
            title += nxt
            j += 1
        return issuer, (issuer or "") + title, j
    return None, None, start


def _issued_date(lines: list[str], issuer: str | None) -> date | None:
    candidates: list[tuple[int, date]] = []
    for i, raw in enumerate(lines):
        line = strip_bold(raw).strip()
        if _PRINTED_RE.search(line) or len(line) > 50:
            continue
        m = _DATE_LINE_RE.match(squash_spaces(line))
        if not m:
            continue
        d = parse_date(line)
        if d is None:
            continue
        org = m.group("org")
        prev = compact(lines[i - 1]) if i > 0 else ""
        signed = bool(org) or (issuer is not None and prev == issuer) or bool(_ISSUER_SUFFIX_RE.search(prev))
        candidates.append((0 if signed else 1, d))
        if signed:
            return d
    return candidates[0][1] if candidates else None


def parse_header(lines: list[str]) -> HeaderResult:
    head_limit = min(len(lines), 40)
    doc_no = None
    issuer = None
    for line in lines[:head_limit]:
        doc_no = normalise_doc_no(line)
        if doc_no:
            break
    for line in lines[:5]:
        m = _MASTHEAD_RE.match(compact(line))
        if m and _ISSUER_SUFFIX_RE.search(m.group(1)):
            issuer = m.group(1)
            break
    title_issuer, title, title_end = _find_title(lines, 0, head_limit)
    issuer = title_issuer or issuer
    if title and issuer and not title.startswith(issuer):
        title = issuer + title
    addressees: list[str] = []
    j = title_end
    buf = ""
    while j < min(len(lines), title_end + 6):
        buf += compact(lines[j])
        j += 1
        if buf.endswith((":", "：")):
            addressees = [a for a in _ADDRESSEE_SPLIT_RE.split(buf[:-1]) if a]
            title_end = j
            break
        if len(buf) > 200:
            break
    year = None
    if doc_no:
        year = int(re.search(r"〔(\d{4})〕", doc_no).group(1))  # type: ignore[union-attr]
    issued = _issued_date(lines, issuer)
    if year is None and issued is not None:
        year = issued.year
    doc = DocHeader(doc_no=doc_no, issuer=issuer, title=title, year=year, issued_date=issued, addressees=addressees)
    return HeaderResult(doc=doc, title_end=title_end)


_INDICATOR_INTRO_RE = re.compile(r"(?:主要)?预期(?:目标|指标)(?:为|是)?[:：]")
_INDICATOR_ITEM_SPLIT_RE = re.compile(r"[，,；;]")
_INDICATOR_RE = re.compile(
    r"^(?P<name>.+?)(?:分别|稳步|持续|力争|同比)?(?:增长|下降|提高|提升|达到|控制在|降低|减少)"
    r"(?P<num>\d+(?:\.\d+)?)?(?P<unit>%|％|个百分点)?"
)


def parse_indicators(text: str) -> list[Indicator]:
    """Main expected indicators from prose such as `主要预期目标为: GDP 增长 6%, …`."""
    clean = squash_spaces(strip_bold(text))
    out: list[Indicator] = []
    for intro in _INDICATOR_INTRO_RE.finditer(clean):
        end = clean.find("。", intro.end())
        sentence = clean[intro.end() : end if end >= 0 else len(clean)]
        for item in _INDICATOR_ITEM_SPLIT_RE.split(sentence):
            indicator = parse_indicator(item)
            if indicator is not None:
                out.append(indicator)
    return out


def parse_indicator(item: str) -> Indicator | None:
    """One indicator phrase (`地区生产总值增长5.5%以上`); None when it names no measure."""
    item = squash_spaces(strip_bold(item)).strip().rstrip("。.")
    m = _INDICATOR_RE.match(item)
    if not item or not m:
        return None
    num = m.group("num")
    unit = m.group("unit")
    return Indicator(
        name=m.group("name").strip(),
        text=item,
        value=float(num) if num and is_amount(float(num)) else None,
        unit=("%" if unit == "％" else unit) if num else None,
    )
