"""Time limits (完成时限) in one cleaned task text, and the task's governing deadline.

Phrases follow the gold conventions (shared/gold/README.md, "deadline_phrases"): 年内, 全年, 上半年,
下半年, 年底, 年底前, 年末, 年前, `N月底前` / `N月份` / `N月前` / `N月N日前`, `一季度` / `第一季度` /
`前三季度`, `N年左右` / `N年内`, `2025年底前` / `2025年6月底前`, `到2023年`, and a bare `2023年` that
opens a clause (`，2023年新建…`). Not phrases: programme names (三年行动, 十年"双倍增"), adjectives
(年度整改任务), vague adverbs (尽早, 尽快, 适时), frequencies (每月, 每年年底), past points (去年底,
上年底, 2年前) and a year used as an attribute (预支2023年新增用地指标, 2023年度, 推进2023年列入…).
"""

from __future__ import annotations

import calendar
import re
from datetime import date

from proto.notice import Deadline

_CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_CHARS = "一二两三四五六七八九十"
# 1–99 in Chinese numerals: 三, 十, 十二, 二十, 二十五 (not 十十 or 一二).
_CN_NUMBER = "(?:[二三四五六七八九]?十[一二三四五六七八九]?|[一二两三四五六七八九])"
_MONTH = r"(?:1[0-2]|0?[1-9])"
_CN_MONTH = r"(?:十[一二]?|[一二三四五六七八九])"
_MONTH_TAIL = r"(?:份|底前|末前|底|末|前|中旬|上旬|下旬|初)"
# Not after a number (`112月`), a counter (`3个月`) or a frequency (`每月`).
_NOT_COUNTED = r"(?<![\d个每第])"

# Every phrase opens with one of these; testing it first keeps the scan fast on other text.
_FIRST_CHARS = rf"(?=[《到\d{_CN_CHARS}第前上下年全])"
_PHRASE = re.compile(
    _FIRST_CHARS
    + "(?:"
    + "|".join(
        (
            # A book title is matched whole so that 《2023年工作要点》 yields no phrase.
            r"(?P<title>《[^《》]{0,80}》)",
            # An explicit year, with an optional 到, month, day and bound: 到2025年底, 2023年6月底前.
            r"(?P<to>到)?(?<![\d\-—–~～至])(?P<year>20\d{2})年"
            rf"(?:(?P<ymonth>{_MONTH})月(?:(?P<yday>[0-3]?\d)日)?)?"
            r"(?P<ytail>年底前|年底|上半年|下半年|底前|末前|底|末|内|前|度)?",
            # A span counted from the notice year: 3年左右, 两年内.
            rf"(?<![\d{_CN_CHARS}])(?P<span>\d{{1,2}}|{_CN_NUMBER})年(?P<spantail>左右|之内|以内|内)",
            rf"{_NOT_COUNTED}(?P<month>{_MONTH})月(?:(?P<day>[0-3]?\d)日前?|(?P<mtail>{_MONTH_TAIL}))?",
            rf"(?<![{_CN_CHARS}个每第])(?P<cnmonth>{_CN_MONTH})月(?P<cnmtail>{_MONTH_TAIL})",
            r"(?<![每])(?P<quarter>(?:第|前)?[一二三四1-4]季度)(?P<qtail>末前|末|底|前)?",
            # 年底 etc. of the current year; not 去年底, 上年底, 每年年底, 3年前 (a span's bound).
            rf"(?<![\d{_CN_CHARS}去上每往同前])(?<!每年)(?P<word>上半年|下半年|年底前|年底|年末前|年末|年内|全年|年前)",
        )
    )
    + ")"
)
# A table's 完成时限 cell may be written as a numeric date: 2023.12.31, 2023-06-30, 2023/6.
_NUMERIC_DATE = re.compile(r"(20\d{2})[./\-](1[0-2]|0?[1-9])(?:[./\-]([0-3]?\d))?(?:日)?(?:前|底前|底)?")
# 截至2022年底，… reports where things stand, it sets no time limit.
_STATUS_DATE = "截至"
_CLAUSE_OPENERS = frozenset("，,。；;：:！？!?、（(")
_WHITESPACE = re.compile(r"\s+")


def extract_deadline_phrases(text: str) -> list[str]:
    """The unique time-limit phrases of a cleaned task text, in order of first occurrence."""
    # Every branch of _PHRASE but the book title (never a deadline) contains 年, 月 or 季(度), and
    # the scan tries each position; most tasks name none of them, and `in` costs next to nothing.
    if "年" not in text and "月" not in text and "季" not in text:
        return []
    flat = _WHITESPACE.sub("", text)
    phrases: dict[str, None] = {}  # insertion-ordered set
    for match in _PHRASE.finditer(flat):
        if _is_deadline(flat, match):
            phrases.setdefault(match.group())
    return list(phrases)


def _is_deadline(text: str, match: re.Match[str]) -> bool:
    """Drop a year that is an attribute (2023年度, a bare 2023年 inside a clause) or a status date."""
    if match["title"]:
        return False
    if match["year"] is None:
        return True
    if match["ytail"] == "度":
        return False
    start = match.start()
    if text.startswith(_STATUS_DATE, max(0, start - len(_STATUS_DATE))):
        return False
    if match["to"] or match["ymonth"] or match["ytail"]:
        return True
    return start == 0 or text[start - 1] in _CLAUSE_OPENERS


def resolve_deadline(phrases: list[str], year: int | None, issued: date | None = None) -> Deadline | None:
    """The governing deadline of a task: the phrase that falls due last.

    A task is done when its last part is due, so of `上半年…年底` the governing deadline is 年底
    (on a tie the phrase written first wins). `3年左右` in a 2025 notice counts 2025 as the first
    of three years and gives 2027-12-31 (the convention of 三年行动（2025-2027年）). Phrases are
    resolved against the notice `year`, or the year of `issued` when the year is unknown; a phrase
    naming its own year (到2025年, 2023年6月底前) needs neither. Phrases that cannot be placed in
    time (长期坚持, from a 完成时限 cell) are passed over. Without any resolvable phrase the
    default is the end of the notice year with an empty phrase, which marks the date as inferred
    rather than written. Returns None when no year is known and no phrase names one.
    """
    base = year if year is not None else (issued.year if issued else None)
    best: Deadline | None = None
    for phrase in phrases:
        due = phrase_due_date(phrase, base)
        if due is not None and (best is None or due > best.due_date):
            best = Deadline(phrase=phrase, due_date=due)
    if best is None and base is not None and date.min.year <= base <= date.max.year:
        best = Deadline(phrase="", due_date=date(base, 12, 31))
    return best


def phrase_due_date(phrase: str, year: int | None) -> date | None:
    """The last day a phrase allows, or None when it cannot be placed in time."""
    try:
        return _due_date(phrase, year)
    except ValueError:  # a year or day out of the calendar's range: nothing to place
        return None


def _due_date(phrase: str, year: int | None) -> date | None:
    match = _PHRASE.fullmatch(phrase)
    if match is None or match["title"]:
        numeric = _NUMERIC_DATE.fullmatch(phrase)
        return _bound(int(numeric[1]), numeric[2], numeric[3], None) if numeric else None
    if match["year"]:
        return _bound(int(match["year"]), match["ymonth"], match["yday"], match["ytail"])
    if year is None:
        return None
    if match["span"]:
        return date(year + _cn_int(match["span"]) - 1, 12, 31)
    if match["month"]:
        return _bound(year, match["month"], match["day"], match["mtail"] or "")
    if match["cnmonth"]:
        return _bound(year, str(_cn_int(match["cnmonth"])), None, match["cnmtail"])
    if match["quarter"]:
        return _quarter_end(year, match["quarter"], match["qtail"] or "")
    return date(year, 6, 30) if match["word"] == "上半年" else date(year, 12, 31)


def _bound(year: int, month: str | None, day: str | None, tail: str | None) -> date | None:
    tail = tail or ""
    if month is None:
        if tail == "上半年":
            return date(year, 6, 30)
        return date(year - 1, 12, 31) if tail == "前" else date(year, 12, 31)
    m = int(month)
    if day is not None:
        return date(year, m, int(day))
    if tail == "前":
        return _month_end(year, m - 1) if m > 1 else date(year - 1, 12, 31)
    if tail in ("中旬",):
        return date(year, m, 20)
    if tail in ("上旬", "初"):
        return date(year, m, 10)
    return _month_end(year, m)


def _quarter_end(year: int, quarter: str, tail: str) -> date:
    q = _cn_int(quarter.lstrip("第前").removesuffix("季度"))
    if tail == "前":
        q -= 1
    return _month_end(year, 3 * q) if q > 0 else date(year - 1, 12, 31)


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _cn_int(numeral: str) -> int:
    """1–99 written in Arabic digits or Chinese numerals (三, 十, 十二, 二十)."""
    if numeral.isdigit():
        return int(numeral)
    if "十" not in numeral:
        return _CN_DIGITS[numeral]
    tens, _, units = numeral.partition("十")
    return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[units] if units else 0)
