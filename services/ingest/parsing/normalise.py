"""Text normaliser: removes extraction noise so the structure parser sees clean physical lines.

Lines are kept (task and label boundaries live at line starts); joining broken lines is a
separate step (`join_lines`) because only the structure parser knows where a block ends.
Bold marks `**` survive: the assignment parser needs them (黑体为主办单位).
"""

from __future__ import annotations

import re
import unicodedata

# Variant characters seen in extracted notices, mapped to the form the directory uses.
VARIANTS: dict[str, str] = {
    "兗": "兖",
    "爲": "为",
    "衆": "众",
    "內": "内",
    "戶": "户",
    "錶": "表",
    "﹒": ".",
}

_FULLWIDTH_ALNUM = {
    **{chr(0xFF10 + i): chr(0x30 + i) for i in range(10)},
    **{chr(0xFF21 + i): chr(0x41 + i) for i in range(26)},
    **{chr(0xFF41 + i): chr(0x61 + i) for i in range(26)},
}
# Control characters mean nothing in a notice (a NUL in a .txt, an escape a converter left) and
# PostgreSQL refuses NUL in text: dropped, with vertical tab and form feed read as line breaks.
_CONTROLS = {chr(c): "" for c in (*range(0x00, 0x09), *range(0x0E, 0x20), *range(0x7F, 0xA0))}
_TRANSLATION = {
    **_FULLWIDTH_ALNUM,
    **VARIANTS,
    **_CONTROLS,
    "\x0b": "\n",
    "\x0c": "\n",
    "\u00a0": " ",
    "\u3000": " ",
    "\u200b": "",
}
# PDF extractors emit Kangxi radicals and CJK compatibility ideographs that look like ordinary
# characters (⼀ for 一); NFKC maps exactly those back.
_COMPAT = "\u2f00-\u2fdf\u2e80-\u2eff\uf900-\ufaff"
# `str.translate` with a dict costs a lookup per character; the mapped characters are rare, so
# one charset scan that visits only them is many times faster on a whole notice. Both maps in
# one scan is equivalent to translating first and then applying NFKC: the two sets of
# characters are disjoint, and no translation yields a compatibility character.
_SURROGATES = "\ud800-\udfff"
_MAPPED_RE = re.compile("[" + re.escape("".join(_TRANSLATION)) + _COMPAT + _SURROGATES + "]")

WIDE = "\u4e00-\u9fff\u3400-\u4dbf\u3000-\u303f\uff00-\uffef\u2014\u2018\u2019\u201c\u201d\u2026\u00b7\u2022"
# A space run next to a wide character: `(?<=[W])[ ]+|[ ]+(?=[W])`, written to open on the space
# class so the regex engine can skip straight to spaces instead of trying every position.
_WIDE_SPACE_RE = re.compile(rf"[ \u3000](?:(?<=[{WIDE}][ \u3000])[ \u3000]*|[ \u3000]*(?=[{WIDE}]))")

_BOOKMARK_RE = re.compile(r"\[bookmark:[^\]\n]*\]")
_LATEX_RE = re.compile(r"[_^]\{([^{}\n]{1,12})\}")
_HTML_TAG_RE = re.compile(r"</?[a-zA-Z][^<>\n]{0,40}>")
# A page number glued into running text: —10— or －5－, never inside a digit run. Like the
# two below, the lookbehind follows the first character so the scan can skip to dashes.
_INLINE_PAGE_RE = re.compile(r"[—－–](?<!\d[—－–])[—－–]?[ \t]*\d{1,3}[ \t]*[—－–]{1,2}(?!\d)")
# `(?<=\S)[ \t]+-[ \t]+\d{1,3}[ \t]+-(?:[ \t]+|$)`: ` - 3 - ` after a word.
_INLINE_HYPHEN_PAGE_RE = re.compile(r"[ \t](?<=\S[ \t])[ \t]*-[ \t]+\d{1,3}[ \t]+-(?:[ \t]+|$)")
_PAGE_LINE_RE = re.compile(r"^[\s\-—－–]*(?:\d{1,3}|第\s*\d{1,3}\s*页(?:\s*[,，]?\s*共\s*\d{1,3}\s*页)?)[\s\-—－–]*$")
_RULE_RE = re.compile(r"^\s*(?:-{3,}|\*{3,}|_{3,}|={3,})\s*$")
_TABLE_SEP_RE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")
_LONE_TASK_NO_RE = re.compile(r"^\s*\d{1,3}\s*[.、．]\s*$")
# Whole-text line patterns open on the newline itself rather than `^` under re.M: a literal
# first character lets the engine jump between lines (`_clean_text` puts a newline first).
_HEADING_RE = re.compile(r"\n[ \t]*#{1,6}[ \t]*")
_BULLET_RE = re.compile(r"\n[ \t]*(?:[-+•●▪◆■]|\*(?!\*))[ \t]+(?=\S)")
_PAGE_OR_RULE_LINE_RE = re.compile(
    r"\n[ \t]*(?:-{3,}|\*{3,}|_{3,}|={3,}|[-—－–]?[ \t]*\d{1,3}[ \t]*[-—－–]?"
    r"|[-—－–]{0,2}[ \t]*第[ \t]*\d{1,3}[ \t]*页(?:[ \t]*[,，]?[ \t]*共[ \t]*\d{1,3}[ \t]*页)?[ \t]*[-—－–]{0,2})[ \t]*(?=\n)",
)


def _mapped(match: re.Match[str]) -> str:
    char = match.group()
    mapped = _TRANSLATION.get(char)
    if mapped is not None:
        return mapped
    # A lone surrogate (text decoded with surrogateescape) cannot be stored or sent: dropped.
    return "" if "\ud800" <= char <= "\udfff" else unicodedata.normalize("NFKC", char)


def to_halfwidth_alnum(text: str) -> str:
    """Full-width digits and ASCII letters to half-width; variants mapped; punctuation kept."""
    return _MAPPED_RE.sub(_mapped, text)


def squash_spaces(text: str) -> str:
    """Remove spaces next to CJK characters or wide punctuation (区 科学技术局 → 区科学技术局)."""
    return _WIDE_SPACE_RE.sub("", text)


def strip_bold(text: str) -> str:
    return text.replace("**", "")


def no_space(text: str) -> str:
    """Every whitespace character removed (what `re.sub(r"\\s+", "", …)` does, without the regex call)."""
    return "".join(text.split())


def compact(text: str) -> str:
    """The comparison form: no bold marks and no whitespace at all."""
    return "".join(text.replace("**", "").split())


def _clean_text(text: str) -> str:
    """Whole-text noise removal (one regex pass each, so long notices stay fast)."""
    text = "\n" + to_halfwidth_alnum(text) + "\n"
    text = _BOOKMARK_RE.sub("", text)
    text = _HTML_TAG_RE.sub("", text)
    # Substring tests (a fast search) spare the regex scans where their required text is absent.
    if "_{" in text or "^{" in text:
        text = _LATEX_RE.sub(r"\1", text)
    # Page-number and rule lines go before bullets are peeled (`- 23 -` is not a bullet).
    text = _PAGE_OR_RULE_LINE_RE.sub("\n", text)
    text = _INLINE_PAGE_RE.sub("", text)
    if "- " in text or "-\t" in text:
        text = _INLINE_HYPHEN_PAGE_RE.sub("", text)
    # Headings and bullets nest (`- ## **二、…**`): peel twice.
    for _ in range(2):
        text = _BULLET_RE.sub("\n", _HEADING_RE.sub("\n", text))
    return squash_spaces(text[1:-1])


# A page-number or rule line (stripped) opens with one of these, a digit or a space left by lstrip.
_NOISE_LINE_FIRST = frozenset("-—－–*_=第")


def _may_be_noise_line(line: str) -> bool:
    first = line[0]
    return first in _NOISE_LINE_FIRST or first.isdigit() or first.isspace()


def _finish_line(line: str) -> str:
    line = line.strip().lstrip("★☆ \t")
    if not line or line in {"**", "****"}:
        return ""
    # Most lines are prose: test the first character before trying both line regexes.
    if _may_be_noise_line(line) and (_PAGE_LINE_RE.match(line) or _RULE_RE.match(line)):
        return ""
    if line.startswith("|"):
        return "" if _TABLE_SEP_RE.match(line) else line
    if "\t" in line:
        return "\t".join(cell.strip() for cell in line.split("\t"))
    return line


def clean_line(line: str) -> str:
    """Noise removal for one physical line; returns '' when the line is pure noise."""
    return _finish_line(_clean_text(line))


def normalise_lines(raw: str) -> list[str]:
    """Clean physical lines of a notice, empty and noise-only lines dropped.

    A task number left alone on its line (`12.`) is glued to the next line so the structure
    parser sees the number and its text together.
    """
    out: list[str] = []
    pending_number = ""
    for raw_line in _clean_text(raw).splitlines():
        line = _finish_line(raw_line)
        if not line:
            continue
        if _may_be_noise_line(line) and _LONE_TASK_NO_RE.match(line):
            pending_number += line
            continue
        if pending_number:
            line = pending_number + line
            pending_number = ""
        out.append(line)
    if pending_number:
        out.append(pending_number)
    return out


def join_lines(lines: list[str]) -> str:
    """Join lines broken mid-sentence: no separator, except a space between two ASCII words."""
    if not lines:
        return ""
    parts = [lines[0]]
    for line in lines[1:]:
        prev = parts[-1]
        if prev and line and prev[-1].isascii() and prev[-1].isalpha() and line[0].isascii() and line[0].isalpha():
            parts.append(" ")
        parts.append(line)
    return squash_spaces("".join(parts))


def normalise(raw: str) -> str:
    """The whole notice cleaned, one physical line per line (bold marks kept)."""
    return "\n".join(normalise_lines(raw))
