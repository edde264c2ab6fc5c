"""What a message says: one item, or a digest grouped by notice and level. Pure text building."""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from services.notify.outgoing import LEVEL_NAMES, LEVELS


@dataclass(frozen=True)
class Item:
    """One delivery as a channel sends it."""

    delivery_id: str
    idempotency_key: str  # step id + subscription: what a receiver drops duplicates by
    step_id: str
    task_id: str
    level: str
    rule: str
    doc_no: str
    title: str
    message: str
    link: str
    copy_only: bool = False


@dataclass(frozen=True)
class Rendered:
    title: str
    markdown: str
    text: str
    html: str


def _level_rank(level: str) -> int:
    return -LEVELS.index(level) if level in LEVELS else 1


def grouped(items: Sequence[Item]) -> list[tuple[str, list[tuple[str, list[Item]]]]]:
    """Items by notice (文号), then by level from the highest; order inside kept."""
    by_notice: dict[str, dict[str, list[Item]]] = defaultdict(lambda: defaultdict(list))
    for item in items:
        by_notice[item.doc_no or "其他"][item.level].append(item)
    return [
        (doc, sorted(levels.items(), key=lambda kv: _level_rank(kv[0]))) for doc, levels in sorted(by_notice.items())
    ]


def render(items: Sequence[Item], keyword: str) -> Rendered:
    if len(items) == 1:
        return _single(items[0], keyword)
    return _digest(items, keyword)


def _with_keyword(title: str, keyword: str) -> str:
    return title if keyword in title else f"{title}（{keyword}）"


def _single(item: Item, keyword: str) -> Rendered:
    title = _with_keyword(item.title, keyword)
    copy = "【抄送】" if item.copy_only else ""
    link_md = f"\n\n[查看任务]({item.link})" if item.link else ""
    link_text = f"\n\n查看任务：{item.link}" if item.link else ""
    link_html = f'<p><a href="{html.escape(item.link)}">查看任务</a></p>' if item.link else ""
    return Rendered(
        title=title,
        markdown=f"### {copy}{title}\n\n{item.message}{link_md}",
        text=f"{copy}{title}\n\n{item.message}{link_text}",
        html=f"<h3>{html.escape(copy + title)}</h3><p>{html.escape(item.message)}</p>{link_html}",
    )


def _digest(items: Sequence[Item], keyword: str) -> Rendered:
    title = _with_keyword(f"【督查汇总】共 {len(items)} 项待办提醒", keyword)
    md, text, page = [f"### {title}"], [title], [f"<h3>{html.escape(title)}</h3>"]
    for doc, levels in grouped(items):
        md.append(f"\n#### {doc}")
        text.append(f"\n{doc}")
        page.append(f"<h4>{html.escape(doc)}</h4>")
        for level, members in levels:
            name = LEVEL_NAMES.get(level, level)
            md.append(f"\n**{name}**（{len(members)} 项）\n")
            text.append(f"  {name}（{len(members)} 项）")
            page.append(f"<p><b>{html.escape(name)}</b>（{len(members)} 项）</p><ul>")
            for item in members:
                md.append(f"- [{item.title}]({item.link})" if item.link else f"- {item.title}")
                text.append(f"    - {item.title} {item.link}".rstrip())
                ref = f' <a href="{html.escape(item.link)}">查看</a>' if item.link else ""
                page.append(f"<li>{html.escape(item.title)}{ref}</li>")
            page.append("</ul>")
    return Rendered(title=title, markdown="\n".join(md), text="\n".join(text), html="".join(page))
