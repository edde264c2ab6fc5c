"""Bold-aware text runs, their markdown rendering, and the readers' error helper."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from services.ingest.parsing.errors import NoticeParseError

# A run of text and whether it is bold; the unit every reader produces before rendering.
Segment = tuple[str, bool]


def reader_error(code: str, zh: str, en: str) -> NoticeParseError:
    return NoticeParseError(code, f"{zh} / {en}")


def too_complex(zh: str, en: str) -> NoticeParseError:
    """A file refused for what reading it would cost (size, depth, memory), not for damage."""
    return reader_error("too_complex", f"文件过于复杂，无法处理：{zh}", f"the file is too complex to process: {en}")


def coalesce(segments: Iterable[Segment]) -> list[Segment]:
    """Merge adjacent runs of equal boldness; whitespace between two bold runs joins them."""
    items = [(t, b) for t, b in segments if t]
    for i, (text, _) in enumerate(items):
        if not text.strip() and 0 < i < len(items) - 1:
            # Whitespace has no visible weight: it belongs to the bold span only if it sits inside one.
            items[i] = (text, items[i - 1][1] and items[i + 1][1])
    merged: list[Segment] = []
    for text, bold in items:
        if not text.strip() and bold and not merged:
            bold = False
        if merged and merged[-1][1] == bold:
            merged[-1] = (merged[-1][0] + text, bold)
        else:
            merged.append((text, bold))
    return merged


def render(segments: Iterable[Segment]) -> str:
    """Segments as text, bold as `**…**` with the marks hugging the text (markdown needs that)."""
    out: list[str] = []
    for text, bold in coalesce(segments):
        core = text.strip()
        if not bold or not core:
            out.append(text)
            continue
        start = text.index(core[0])
        end = start + len(core)
        out.append(f"{text[:start]}**{core}**{text[end:]}")
    return "".join(out)


def table_row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(c.replace("\n", "").replace("|", "\\|").strip() for c in cells) + " |"


def cell_separator(lines: Sequence[str]) -> str:
    """How the lines of one table cell join: `、` when each is a short name (units or leaders set one
    per line), else nothing (a task's text wrapped into paragraphs)."""
    texts = [t.strip() for t in lines if t.strip()]
    if len(texts) > 1 and all(len(t) <= 20 and not t.endswith(("。", "；", ";", "，", ",", "、", "：")) for t in texts):
        return "、"
    return ""
