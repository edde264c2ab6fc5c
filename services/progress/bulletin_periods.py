"""The period a bulletin covers: a month, a 旬, a quarter or a from–to range. Pure date arithmetic.

Labels: month `2026-11`; 旬 `2026-11-上旬` / `中旬` / `下旬`; quarter `2026-Q4`; range
`2026-11-01~2026-11-15` (both days included).
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from services.common import periods
from services.common.periods import Period

_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})~(\d{4}-\d{2}-\d{2})$")
_QUARTER_ZH = ("一", "二", "三", "四")
EXAMPLES = "2026-11、2026-11-上旬、2026-Q4 或 2026-11-01~2026-11-15"


def quarter(year: int, index: int) -> Period:
    """Quarter `index` (1–4) of `year`."""
    start = date(year, 3 * index - 2, 1)
    end = periods.period_containing("month", date(year, 3 * index, 1)).end
    return Period("quarter", f"{year:04d}-Q{index}", start, end)


def date_range(start: date, end: date) -> Period:
    if end < start:
        raise ValueError(f"the period ends ({end}) before it starts ({start})")
    return Period("range", f"{start.isoformat()}~{end.isoformat()}", start, end)


def parse(label: str) -> Period:
    """The period a bulletin label names; ValueError when it names none."""
    label = label.strip()
    for kind in ("month", "xun"):
        try:
            return periods.parse_period(kind, label)
        except ValueError:
            continue
    if m := _QUARTER.match(label):
        return quarter(int(m[1]), int(m[2]))
    if m := _RANGE.match(label):
        try:
            start, end = date.fromisoformat(m[1]), date.fromisoformat(m[2])
        except ValueError:
            raise ValueError(f"period {label!r} holds a day that does not exist") from None
        return date_range(start, end)
    raise ValueError(f"period {label!r} is none of {EXAMPLES}")


def containing(kind: str, day: date) -> Period:
    """The month, 旬 or quarter holding `day`."""
    if kind == "quarter":
        return quarter(day.year, (day.month - 1) // 3 + 1)
    return periods.period_containing(kind, day)


def previous(kind: str, day: date) -> Period:
    """The month, 旬 or quarter before the one holding `day`."""
    return containing(kind, containing(kind, day).start - timedelta(days=1))


def name_zh(period: Period) -> str:
    """How the bulletin names its period: 2026年11月, 2026年11月上旬, 2026年第四季度, 2026年11月1日至15日."""
    start, end = period.start, period.end
    if period.kind == "month":
        return f"{start.year}年{start.month}月"
    if period.kind == "xun":
        return f"{start.year}年{start.month}月{period.label[-2:]}"
    if period.kind == "quarter":
        return f"{start.year}年第{_QUARTER_ZH[(start.month - 1) // 3]}季度"
    return f"{date_zh(start)}至{date_zh(end)}"


def date_zh(day: date) -> str:
    """A date as official documents write it: 2026年12月5日."""
    return f"{day.year}年{day.month}月{day.day}日"
