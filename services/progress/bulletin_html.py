"""A bulletin as an HTML page for the console: every text escaped, tables with a header row."""

from __future__ import annotations

from html import escape

from services.progress.bulletin_sections import Document, Section

_STYLE = (
    "body{font-family:'仿宋_GB2312','FangSong',serif;max-width:60em;margin:2em auto;line-height:1.8}"
    "h1{font-family:'方正小标宋简体','SimSun',serif;text-align:center}h2{font-family:'黑体','SimHei',sans-serif}"
    ".doc-no,.center{text-align:center}.right{text-align:right}table{border-collapse:collapse;width:100%}"
    "th,td{border:1px solid #333;padding:.2em .4em}.draft{color:#b00}"
)


def _section(section: Section) -> str:
    parts = [f"<section><h2>{escape(section.title)}</h2>"]
    parts += [f"<p>{escape(text)}</p>" for text in section.paragraphs]
    if section.headers and section.rows:
        head = "".join(f"<th>{escape(h)}</th>" for h in section.headers)
        body = "".join(
            "<tr>" + "".join(f"<td>{escape(str(value))}</td>" for value in row) + "</tr>" for row in section.rows
        )
        parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    parts.append("</section>")
    return "".join(parts)


def render(document: Document) -> str:
    draft = '<p class="center draft">（草稿）</p>' if document.draft else ""
    main_to = f"<p>{escape(document.main_to)}：</p>" if document.main_to else ""
    copy_to = f"<p>抄送：{escape(document.copy_to)}。</p>" if document.copy_to else ""
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{escape(document.title)}</title><style>{_STYLE}</style></head><body>"
        f'<p class="doc-no">{escape(document.doc_no)}</p><h1>{escape(document.title)}</h1>{draft}{main_to}'
        + "".join(_section(s) for s in document.sections)
        + f'<p class="right">{escape(document.issuer)}</p><p class="right">{escape(document.dated)}</p>{copy_to}'
        "</body></html>"
    )
