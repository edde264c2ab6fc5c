"""Input types every service shares: bounded pages and ids, clean text, sane dates, finite numbers.

A value outside these types is refused at the edge with the bilingual 422, before any database
sees it: SQLite cannot bind an integer past 2^63, PostgreSQL refuses NUL in text, a lone
surrogate cannot be encoded, and an infinite float becomes `null` in a JSON column and breaks
every later read of the row.

Numbers are strict (no `"50"`, no `true` for a number) and finite. Dates fall in a fixed window,
`FIRST_DAY`–`LAST_DAY` (2000–2100): the notices Luoshi reads are this century's, and a narrower
window around the notice's own year is checked where the notice is known (`near_year`).
"""

from __future__ import annotations

import math
import re
from datetime import date
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Path, Query
from pydantic import AfterValidator, Field, Strict

# Longest unit name (and alias) and person's name a database column holds.
NAME_MAX = 200
PERSON_MAX = 100
MAX_OFFSET = 10**9
MAX_LIMIT = 1000
MAX_ROW_ID = 2**31 - 1
# Targets in notices reach 万亿元 at most; 10^12 leaves room without nearing float's limits.
MAX_AMOUNT = 1e12
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2100, 12, 31)
YEARS_AROUND_NOTICE = 20

# C0 and C1 controls, DEL and lone surrogates. Text keeps \t, \n and \r (a pasted Windows text
# has \r\n); a one-line name keeps none of them.
_BAD_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_BAD_IN_LINE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_SAFE_SCHEMES = ("http", "https")


def has_control_characters(value: str, *, one_line: bool = True) -> bool:
    # isprintable() is one C loop and true for nearly every name and one-paragraph narrative
    # (it is false for any control, surrogate or separator); the regex decides the rest.
    if value.isprintable():
        return False
    return (_BAD_IN_LINE if one_line else _BAD_IN_TEXT).search(value) is not None


def without_control_characters(value: str) -> str:
    """The value with every control character, line break and lone surrogate removed."""
    return value if value.isprintable() else _BAD_IN_LINE.sub("", value)


def _text(value: str) -> str:
    if has_control_characters(value, one_line=False):
        raise ValueError("NUL, control characters other than tab and line breaks, and lone surrogates are refused")
    return value


def _line(value: str) -> str:
    if has_control_characters(value):
        raise ValueError("NUL, control characters, line breaks and lone surrogates are refused")
    return value


def _link(value: str) -> str:
    # The scheme is what makes a link shown to others safe to click (no javascript:, data:, file:).
    parts = urlsplit(_line(value))
    if parts.scheme.lower() not in _SAFE_SCHEMES or not parts.hostname or any(c.isspace() for c in value):
        raise ValueError("only http and https links with a host are accepted")
    return value


def _day(value: date) -> date:
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValueError(f"dates must fall between {FIRST_DAY} and {LAST_DAY}")
    return value


def is_amount(value: float) -> bool:
    """A quantity Luoshi can store and compute with: finite and within ±`MAX_AMOUNT`."""
    return math.isfinite(value) and abs(value) <= MAX_AMOUNT


def near_year(value: date, year: int | None) -> bool:
    """True when the date is within `YEARS_AROUND_NOTICE` years of the notice's year (if known)."""
    return year is None or abs(value.year - year) <= YEARS_AROUND_NOTICE


# Multi-line prose (narratives, task text, reasons).
Text = Annotated[str, AfterValidator(_text)]
# One line: names, titles, ids, keys, phrases.
Line = Annotated[str, AfterValidator(_line)]
Link = Annotated[str, Field(max_length=500), AfterValidator(_link)]
Day = Annotated[date, AfterValidator(_day)]

Percent = Annotated[float, Strict(), Field(ge=0, le=100, allow_inf_nan=False)]
Amount = Annotated[float, Strict(), Field(ge=-MAX_AMOUNT, le=MAX_AMOUNT, allow_inf_nan=False)]
NonNegativeAmount = Annotated[float, Strict(), Field(ge=0, le=MAX_AMOUNT, allow_inf_nan=False)]
Flag = Annotated[bool, Strict()]

# Query parameters of the list routes: `offset: Offset = 0`, `limit: Limit = 50`.
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
# An integer row id in a path: `link_id: RowId`.
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
