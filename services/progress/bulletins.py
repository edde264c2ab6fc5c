"""Bulletins (通报) as stored documents: a draft made for notices and a period, edited, then published.

Publishing counts the figures once more and freezes them, gives the 文号 (the next serial of the
publishing year), and stages `bulletin.published` in the outbox with the bulletin's rows.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from proto.bulletin import BulletinPublished
from proto.subjects import Subjects
from services.common.errors import ApiError
from services.common.outbox import stage
from services.common.periods import Period
from services.progress import bulletin_asof, bulletin_periods
from services.progress.bulletin_figures import Options, figures
from services.progress.models import Bulletin, BulletinCounter, ProgressTask
from services.progress.ranking import DEFAULT_WEIGHTS
from services.progress.settings import ProgressSettings
from services.progress.status import Rules
from services.progress.units import unit_names

PREFIX = "/api/progress/bulletins"
FORMATS = ("docx", "html", "xlsx")


@dataclass(frozen=True)
class Layout:
    """How bulletins are numbered, titled, addressed and ranked: the service's settings."""

    doc_no: str = "兖督通〔{year}〕{n}号"
    title: str = "关于{period}重点工作任务落实情况的通报"
    issuer: str = "督查室"
    main_to: tuple[str, ...] = ("各承办单位",)
    copy_to: tuple[str, ...] = ()
    options: Options = field(default_factory=lambda: Options(weights=dict(DEFAULT_WEIGHTS)))

    @classmethod
    def from_settings(cls, settings: ProgressSettings) -> Layout:
        return cls(
            doc_no=settings.bulletin_doc_no,
            title=settings.bulletin_title,
            issuer=settings.bulletin_issuer,
            main_to=tuple(settings.bulletin_main_to),
            copy_to=tuple(settings.bulletin_copy_to),
            options=Options(
                weights=dict(settings.bulletin_weights),
                top=settings.bulletin_top,
                honour_roll=settings.bulletin_honour_roll,
            ),
        )


def not_found(bulletin_id: str) -> ApiError:
    return ApiError(404, "bulletin_not_found", f"未找到通报 {bulletin_id}", f"bulletin {bulletin_id} not found")


def _published(bulletin_id: str) -> ApiError:
    return ApiError(
        409,
        "bulletin_published",
        f"通报 {bulletin_id} 已印发，不能再修改或重复印发",
        f"bulletin {bulletin_id} is published; it can be neither edited nor published again",
    )


def resolve_notices(session: Session, refs: list[str]) -> list[str]:
    """The 文号 of each notice named by its 文号 or id, sorted; 404 naming the first unknown one."""
    found: set[str] = set()
    for ref in dict.fromkeys(refs):
        doc_no = session.exec(
            select(ProgressTask.doc_no).where(or_(ProgressTask.doc_no == ref, ProgressTask.notice_id == ref)).limit(1)
        ).first()
        if doc_no is None:
            raise ApiError(404, "notice_not_found", f"未找到通知 {ref} 的任务", f"no tasks of notice {ref}")
        found.add(doc_no)
    return sorted(found)


def supervised_notices(session: Session) -> list[str]:
    """The 文号 of every notice with a supervised task."""
    stmt = select(ProgressTask.doc_no).where(ProgressTask.supervision == "supervised", ProgressTask.removed == False)  # noqa: E712
    return sorted(set(session.exec(stmt.distinct()).all()))


def period_of(*, label: str | None, start: date | None, end: date | None, today: date) -> Period:
    """The period a request names (a label, or from–to), which must be over by `today`; 422 otherwise."""
    if label is not None and (start is not None or end is not None):
        raise ApiError(
            422, "period_ambiguous", "period 与 from/to 只能给其一", "give either period or from and to, not both"
        )
    try:
        if label is not None:
            period = bulletin_periods.parse(label)
        elif start is not None and end is not None:
            if end < start:
                raise ApiError(
                    422,
                    "period_reversed",
                    f"通报期间的结束日 {end} 早于开始日 {start}",
                    f"the period ends ({end}) before it starts ({start})",
                )
            period = bulletin_periods.date_range(start, end)
        else:
            raise ApiError(
                422,
                "period_missing",
                f"须给出通报期间：{bulletin_periods.EXAMPLES}，或 from 与 to",
                "give a period or from and to",
            )
    except ValueError as exc:
        raise ApiError(
            422, "period_invalid", f"通报期间 {label} 格式不对，应为 {bulletin_periods.EXAMPLES}", str(exc)
        ) from None
    if period.start > today:
        raise ApiError(
            422, "period_in_future", f"通报期间 {period.label} 尚未开始", f"period {period.label} has not started"
        )
    if period.end >= today:
        raise ApiError(
            422,
            "period_not_over",
            f"通报期间 {period.label} 尚未结束（截至 {period.end}），结束后方可通报",
            f"period {period.label} is not over (it ends {period.end}); a bulletin counts a period once it is over",
        )
    return period


def _previous(session: Session, notice_key: str, period: Period, exclude: str) -> Bulletin | None:
    stmt = (
        select(Bulletin)
        .where(
            Bulletin.notice_key == notice_key,
            Bulletin.state == "published",
            Bulletin.period_end < period.end,
            Bulletin.bulletin_id != exclude,
        )
        .order_by(col(Bulletin.period_end).desc(), col(Bulletin.published_at).desc())
    )
    return session.exec(stmt.limit(1)).first()


def count(
    session: Session, *, doc_nos: list[str], period: Period, rules: Rules, options: Options, exclude: str = ""
) -> dict[str, Any]:
    """The figures of every section for these notices and this period, as of its end."""
    conn = session.connection()
    asof = bulletin_asof.read(conn, doc_nos=doc_nos, period=period, rules=rules)
    previous = _previous(session, "|".join(doc_nos), period, exclude)
    before = None
    if previous is not None:
        before = {
            "bulletin_id": previous.bulletin_id,
            "doc_no": previous.doc_no,
            "period": previous.period_label,
            "tasks": previous.figures.get("tasks", {}),
        }
    names = unit_names(conn, asof.unit_ids)
    return figures(tasks=asof.tasks, due=asof.due, names=names, marks=asof.marks, previous=before, options=options)


def create_draft(
    *,
    session: Session,
    doc_nos: list[str],
    period: Period,
    rules: Rules,
    layout: Layout,
    now: datetime,
    actor: str,
    bulletin_id: str | None = None,
    schedule_rule: str | None = None,
    comments: str = "",
) -> Bulletin:
    bulletin_id = bulletin_id or uuid.uuid4().hex[:16]
    row = Bulletin(
        bulletin_id=bulletin_id,
        notices=doc_nos,
        notice_key="|".join(doc_nos),
        period_label=period.label,
        period_start=period.start,
        period_end=period.end,
        title=layout.title.format(period=bulletin_periods.name_zh(period)),
        comments=comments,
        main_to=list(layout.main_to),
        copy_to=list(layout.copy_to),
        figures=count(
            session, doc_nos=doc_nos, period=period, rules=rules, options=layout.options, exclude=bulletin_id
        ),
        schedule_rule=schedule_rule,
        created_at=now,
        created_by=actor,
        updated_at=now,
    )
    session.add(row)
    session.commit()
    return row


def get(session: Session, bulletin_id: str, *, published_only: bool = False) -> Bulletin:
    row = session.get(Bulletin, bulletin_id)
    if row is None or (published_only and row.state != "published"):
        raise not_found(bulletin_id)
    return row


def listing(session: Session, *, state: str | None, limit: int, offset: int) -> list[Bulletin]:
    """Bulletins, latest period first; `state` keeps only drafts or only published ones."""
    stmt = select(Bulletin)
    if state is not None:
        stmt = stmt.where(Bulletin.state == state)
    stmt = stmt.order_by(col(Bulletin.period_end).desc(), col(Bulletin.created_at).desc(), col(Bulletin.bulletin_id))
    return list(session.exec(stmt.offset(offset).limit(limit)).all())


def edit(
    *,
    session: Session,
    bulletin_id: str,
    comments: str | None,
    main_to: list[str] | None,
    copy_to: list[str] | None,
    now: datetime,
) -> Bulletin:
    row = get(session, bulletin_id)
    if row.state == "published":
        raise _published(bulletin_id)
    if comments is not None:
        row.comments = comments
    if main_to is not None:
        row.main_to = main_to
    if copy_to is not None:
        row.copy_to = copy_to
    row.updated_at = now
    session.add(row)
    session.commit()
    return row


def _next_serial(session: Session, year: int) -> int:
    counter = session.get(BulletinCounter, year, with_for_update=True) or BulletinCounter(year=year, last=0)
    counter.last += 1
    session.add(counter)
    return counter.last


def publish(
    *,
    session: Session,
    subjects: Subjects,
    bulletin_id: str,
    rules: Rules,
    layout: Layout,
    now: datetime,
    actor: str,
) -> Bulletin:
    """Count the figures once more and freeze them, number the bulletin, stage `bulletin.published`."""
    row = get(session, bulletin_id)
    if row.state == "published":
        raise _published(bulletin_id)
    period = Period("bulletin", row.period_label, row.period_start, row.period_end)
    row.figures = count(
        session, doc_nos=list(row.notices), period=period, rules=rules, options=layout.options, exclude=bulletin_id
    )
    year = rules.day(now).year
    serial = _next_serial(session, year)
    row.doc_no = layout.doc_no.format(year=year, n=serial)
    row.doc_year, row.doc_serial = year, serial
    row.state, row.published_at, row.published_by, row.updated_at = "published", now, actor, now
    session.add(row)
    stage(session, subjects.bulletin_published, published_event(row, layout.issuer, now))
    session.commit()
    return row


def links(bulletin_id: str) -> dict[str, str]:
    return {fmt: f"{PREFIX}/{bulletin_id}.{fmt}" for fmt in FORMATS}


def summary(row: Bulletin) -> str:
    """A few Chinese lines for a robot message."""
    overall = row.figures["overall"]
    ranking = row.figures["ranking"]
    lines = [
        f"{row.doc_no or ''} {row.title}".strip(),
        f"共 {overall['total']} 项任务：蓝 {overall['blue']}、黄 {overall['yellow']}、红 {overall['red']}，"
        f"办结 {overall['closed']}，逾期 {overall['overdue']}。",
    ]
    if row.figures["not_reported"]:
        lines.append(f"未按时报送单位 {len(row.figures['not_reported'])} 个。")
    if ranking["top"]:
        lines.append(f"{'红榜' if ranking['honour_roll'] else '排名靠前'}：{'、'.join(ranking['top'])}。")
    if ranking["bottom"]:
        lines.append(f"{'黑榜' if ranking['honour_roll'] else '排名靠后'}：{'、'.join(ranking['bottom'])}。")
    return "\n".join(lines)


def published_event(row: Bulletin, issuer: str, now: datetime) -> BulletinPublished:
    overall = row.figures["overall"]
    period = Period("bulletin", row.period_label, row.period_start, row.period_end)
    period_kind = bulletin_periods.parse(row.period_label)
    return BulletinPublished(
        source="progress",
        occurred_at=now,
        correlation_id=row.bulletin_id,
        bulletin_id=row.bulletin_id,
        title=row.title,
        period=row.period_label,
        counts={k: overall[k] for k in ("total", "blue", "yellow", "red", "closed", "overdue")}
        | {"units_not_reported": len(row.figures["not_reported"])},
        doc_no=row.doc_no or "",
        period_name=bulletin_periods.name_zh(period_kind),
        period_start=period.start,
        period_end=period.end,
        notices=list(row.notices),
        main_to=list(row.main_to),
        copy_to=list(row.copy_to),
        issuer=issuer,
        top_units=list(row.figures["ranking"]["top"]),
        bottom_units=list(row.figures["ranking"]["bottom"]),
        summary=summary(row),
        links=links(row.bulletin_id),
        docx_filename=f"{row.doc_no or row.bulletin_id}.docx",
    )
