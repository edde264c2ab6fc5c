"""A bulletin's sections as titled paragraphs and tables, the one layout every rendering follows. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from services.common.clock import local_date
from services.progress import bulletin_periods

Cell = str | int | float


@dataclass(frozen=True)
class Section:
    title: str
    sheet: str  # the .xlsx sheet's name (31 characters at most)
    paragraphs: list[str] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    rows: list[list[Cell]] = field(default_factory=list)


@dataclass(frozen=True)
class Document:
    title: str
    doc_no: str
    main_to: str
    copy_to: str
    issuer: str
    dated: str
    draft: bool
    sections: list[Section]


_FLAG_ZH = {"blue": "蓝", "yellow": "黄", "red": "红"}
_COUNT_HEADERS = ["任务数", "蓝灯", "黄灯", "红灯", "办结", "逾期", "按时报送率", "办结率"]


def rate(value: float | None) -> str:
    return "—" if value is None else f"{value:g}%"


def _counts(row: dict[str, Any]) -> list[Cell]:
    return [row[k] for k in ("total", "blue", "yellow", "red", "closed", "overdue")] + [
        rate(row["on_time_rate"]),
        rate(row["completion_rate"]),
    ]


def _overall(figures: dict[str, Any], period_name: str) -> Section:
    o = figures["overall"]
    text = (
        f"截至{period_name}末，纳入督办的任务共 {o['total']} 项，其中蓝灯（正常推进）{o['blue']} 项、黄灯（进度滞后）"
        f"{o['yellow']} 项、红灯（严重滞后或逾期）{o['red']} 项；已办结 {o['closed']} 项，逾期未完成 {o['overdue']} 项。"
        f"本期应报送进展 {o['reports_due']} 次，按时报送 {o['reports_on_time']} 次，逾期报送 {o['reports_late']} 次，"
        f"未报送 {o['reports_missing']} 次，按时报送率 {rate(o['on_time_rate'])}。"
    )
    rows: list[list[Cell]] = [
        ["任务总数", o["total"]],
        ["蓝灯", o["blue"]],
        ["黄灯", o["yellow"]],
        ["红灯", o["red"]],
        ["已办结", o["closed"]],
        ["逾期", o["overdue"]],
        ["应报送", o["reports_due"]],
        ["按时报送", o["reports_on_time"]],
        ["逾期报送", o["reports_late"]],
        ["未报送", o["reports_missing"]],
        ["按时报送率", rate(o["on_time_rate"])],
        ["办结率", rate(o["completion_rate"])],
    ]
    return Section("一、总体情况", "总体情况", [text], ["指标", "数值"], rows)


def _changes(figures: dict[str, Any]) -> Section:
    changes, previous = figures["changes"], figures["previous"]
    if changes is None:
        return Section("二、较上期变化", "较上期变化", ["本期为首期通报，无上期可比。"])
    what = (("turned_red", "转为红灯"), ("recovered", "恢复正常"), ("closed", "新办结"))
    text = f"与上期通报（{previous['doc_no'] or previous['period']}）相比：" + "，".join(
        f"{zh} {len(changes[key])} 项" for key, zh in what
    )
    rows: list[list[Cell]] = [
        [zh, r["doc_no"], r["number"], r["text"], "、".join(r["host_units"])] for key, zh in what for r in changes[key]
    ]
    return Section("二、较上期变化", "较上期变化", [text + "。"], ["变化", "文号", "序号", "任务", "主办单位"], rows)


def _units(figures: dict[str, Any]) -> Section:
    ranking = figures["ranking"]
    w = ranking["weights"]
    note = (
        f"排名得分 = 按时报送率×{w.get('on_time', 0):g} + 灯色构成×{w.get('flag_mix', 0):g} + 按期办结率×"
        f"{w.get('closed_on_time', 0):g}（按权重折算为百分制；灯色构成：蓝灯计 1、黄灯计 0.5、红灯计 0）。"
    )
    paragraphs = [note]
    top_zh, bottom_zh = ("红榜", "黑榜") if ranking["honour_roll"] else ("排名靠前", "排名靠后")
    if ranking["top"]:
        paragraphs.append(f"{top_zh}：{'、'.join(ranking['top'])}。")
    if ranking["bottom"]:
        paragraphs.append(f"{bottom_zh}：{'、'.join(ranking['bottom'])}。")
    rows: list[list[Cell]] = [[r["rank"], r["name"], *_counts(r), r["score"]] for r in figures["units"]]
    return Section("三、各单位落实情况及排名", "单位排名", paragraphs, ["排名", "单位", *_COUNT_HEADERS, "得分"], rows)


def _leaders(figures: dict[str, Any]) -> Section:
    rows: list[list[Cell]] = [[r["name"], *_counts(r)] for r in figures["leaders"]]
    return Section("四、牵头领导分管任务情况", "牵头领导", [], ["牵头领导", *_COUNT_HEADERS], rows)


def _flagged(figures: dict[str, Any]) -> Section:
    rows: list[list[Cell]] = [
        [
            _FLAG_ZH[r["flag"]],
            r["doc_no"],
            r["number"],
            r["text"],
            "、".join(r["host_units"]),
            f"{r['percent']:g}%",
            f"{r['expected_percent']:g}%",
            r["reason"],
        ]
        for r in figures["flagged"]
    ]
    lead = [] if rows else ["本期无红灯、黄灯任务。"]
    headers = ["灯色", "文号", "序号", "任务", "主办单位", "完成", "应达", "原因"]
    return Section("五、红灯、黄灯任务", "红黄灯任务", lead, headers, rows)


def _not_reported(figures: dict[str, Any]) -> Section:
    rows: list[list[Cell]] = [
        [
            r["name"],
            r["due"],
            r["on_time"],
            r["late"],
            r["missing"],
            "、".join(str(n) for n in r["missing_tasks"]) or "—",
        ]
        for r in figures["not_reported"]
    ]
    lead = [] if rows else ["本期各单位均按时报送。"]
    headers = ["单位", "应报送", "按时", "逾期报送", "未报送", "未报送任务序号"]
    return Section("六、未按时报送单位", "未按时报送", lead, headers, rows)


def _marked(figures: dict[str, Any]) -> Section:
    rows: list[list[Cell]] = [
        [r["doc_no"], r["number"], r["text"], r["unit"], r["message"], r["raised_on"]] for r in figures["marked"]
    ]
    lead = [] if rows else ["本期无提级督办任务。"]
    return Section("七、提级督办任务", "提级督办", lead, ["文号", "序号", "任务", "责任单位", "督办事由", "日期"], rows)


def document(bulletin: Any, issuer: str, zone: ZoneInfo) -> Document:
    """What a rendering shows of a stored bulletin (a `Bulletin` row)."""
    figures = bulletin.figures
    period = bulletin_periods.parse(bulletin.period_label)
    sections = [
        _overall(figures, bulletin_periods.name_zh(period)),
        _changes(figures),
        _units(figures),
        _leaders(figures),
        _flagged(figures),
        _not_reported(figures),
        _marked(figures),
    ]
    if bulletin.comments.strip():
        sections.append(Section("八、下步工作要求", "工作要求", bulletin.comments.strip().splitlines()))
    day = local_date(bulletin.published_at or bulletin.updated_at, zone)
    return Document(
        title=bulletin.title,
        doc_no=bulletin.doc_no or "〔待编号〕",
        main_to="、".join(bulletin.main_to),
        copy_to="、".join(bulletin.copy_to),
        issuer=issuer,
        dated=bulletin_periods.date_zh(day),
        draft=bulletin.state != "published",
        sections=sections,
    )
