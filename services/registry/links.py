"""Links between tasks of different notices, suggested when a notice arrives.

Three kinds, each decided by which two notices the tasks come from:

* cascade — a city task naming a district (兖州区, or every county: 各县（市、区）政府) and the
  district's tasks on the same subject;
* series — the same target followed year over year in one government's notices;
* overlap — the same commitment in two notices of one government and one year, a probable
  duplicate (see `overlap.py` for the rule).

Links are recomputed for each pair of notices the new notice takes part in, so the result does
not depend on which notice came first; the office's confirmations and rejections are kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from services.common.errors import ApiError
from services.registry.models import RegistryNotice, RegistryTask, TaskLink
from services.registry.names import clean
from services.registry.overlap import OVERLAP_MIN, is_overlap_pair
from services.registry.similarity import Corpus, Doc, cosine, coverage, shared_nouns, shared_phrases, shared_targets

# Similarity floors, set on the shared notices: below them suggestions are mostly noise.
CASCADE_MIN = 0.15  # the city task names the district itself
CASCADE_COLLECTIVE_MIN = 0.25  # it names every county at once, a weaker hint
CASCADE_TOP = 3
CASCADE_YEARS = 2  # a city plan cascades to the district's notices of that year and the next two
SERIES_MIN = 0.2
EVERY_COUNTY = ("县（市、区）", "各县", "各区县")
_AREA = re.compile(r"[^省市区县]+?[省市区县]")
_ISSUER_SUFFIX = re.compile(r"(?:人民政府|政府)(?:办公室|办公厅)?$")


@dataclass(frozen=True)
class NoticeInfo:
    doc_no: str
    area: str
    level: str  # city or county
    year: int | None


def notice_info(notice: RegistryNotice) -> NoticeInfo:
    """Which government issued the notice: 济宁市兖州区人民政府 → (兖州区, county)."""
    body = _ISSUER_SUFFIX.sub("", clean(notice.issuer or ""))
    parts = _AREA.findall(body)
    area = parts[-1] if parts else body
    level = "county" if len(parts) > 1 or area.endswith(("区", "县")) else "city"
    return NoticeInfo(doc_no=notice.doc_no, area=area, level=level, year=notice.year)


def names_area(task: RegistryTask, area: str) -> str | None:
    """The unit on a city task that hands work to `area`, if any."""
    for name in (*task.host_units, *task.co_units):
        text = clean(name)
        if area and area in text:
            return name
        if any(word in text for word in EVERY_COUNTY):
            return name
    return None


@dataclass
class _Candidate:
    kind: str
    source: RegistryTask
    target: RegistryTask
    confidence: float
    evidence: dict[str, Any]


def _evidence(a: Doc, b: Doc, score: float, rule: str, **extra: Any) -> dict[str, Any]:
    return {
        "rule": rule,
        "similarity": round(score, 3),
        "shared_phrases": shared_phrases(a.text, b.text),
        "shared_targets": shared_targets(a, b),
        **extra,
    }


def _confidence(score: float, a: Doc, b: Doc, bonus: float = 0.0) -> float:
    """Similarity, raised for each target measured alike and each counted noun both name."""
    stems = len(shared_targets(a, b))
    nouns = len(shared_nouns(a, b))
    return round(max(0.0, min(1.0, score + 0.05 * min(stems, 3) + 0.15 * min(nouns, 2) + bonus)), 3)


def _cascade_score(city: Doc, district: Doc) -> float:
    """A city task is short and a district task often bundles several subjects: how much of the
    city task the district task covers counts as much as their plain similarity."""
    return (cosine(city, district) + coverage(city, district)) / 2


def _cascade(city: NoticeInfo, county: NoticeInfo, tasks: dict[str, list[RegistryTask]], docs: dict[str, Doc]):  # type: ignore[no-untyped-def]
    gap = (county.year - city.year) if city.year and county.year else 0
    if not 0 <= gap <= CASCADE_YEARS:
        return
    for source in tasks[city.doc_no]:
        named = names_area(source, county.area)
        if not named:
            continue
        exact = county.area in clean(named)
        floor = CASCADE_MIN if exact else CASCADE_COLLECTIVE_MIN
        scored = sorted(
            ((_cascade_score(docs[source.task_id], docs[t.task_id]), t) for t in tasks[county.doc_no]),
            key=lambda p: -p[0],
        )
        for score, target in scored[:CASCADE_TOP]:
            if score < floor:
                break
            a, b = docs[source.task_id], docs[target.task_id]
            rule = f"{city.year}年市级任务点名「{named}」，与{county.area}{county.year}年任务内容相近"
            yield _Candidate(
                "cascade",
                source,
                target,
                _confidence(score, a, b, (0.05 if exact else 0.0) - 0.05 * gap),
                _evidence(a, b, score, rule, named_unit=named),
            )


def _best_matches(left: list[RegistryTask], right: list[RegistryTask], docs: dict[str, Doc], floor: float):  # type: ignore[no-untyped-def]
    """Each task's best match on the other side, both ways, above `floor`; and, whatever the
    text, the closest pair per counted noun both sides set a target for (高新技术企业 4家 → 30家)."""
    pairs: dict[tuple[str, str], tuple[float, RegistryTask, RegistryTask]] = {}
    by_noun: dict[str, tuple[float, RegistryTask, RegistryTask]] = {}
    for a in left:
        for b in right:
            for noun in shared_nouns(docs[a.task_id], docs[b.task_id]):
                score = cosine(docs[a.task_id], docs[b.task_id])
                if noun not in by_noun or score > by_noun[noun][0]:
                    by_noun[noun] = (score, a, b)
    for score, a, b in by_noun.values():
        pairs[(a.task_id, b.task_id)] = (score, a, b)
    for side, other in ((left, right), (right, left)):
        for task in side:
            best = max(
                ((cosine(docs[task.task_id], docs[o.task_id]), o) for o in other), default=None, key=lambda p: p[0]
            )
            if best is None or best[0] < floor:
                continue
            a, b = (task, best[1]) if side is left else (best[1], task)
            pairs[(a.task_id, b.task_id)] = (best[0], a, b)
    return pairs.values()


def _candidates(
    n: NoticeInfo, m: NoticeInfo, tasks: dict[str, list[RegistryTask]], docs: dict[str, Doc]
) -> list[_Candidate]:
    out: list[_Candidate] = []
    if n.level == "city" and m.level == "county":
        out += _cascade(n, m, tasks, docs)
    elif n.level == "county" and m.level == "city":
        out += _cascade(m, n, tasks, docs)
    elif n.area == m.area and n.year and m.year and n.year != m.year:
        early, late = (n, m) if n.year < m.year else (m, n)
        for score, a, b in _best_matches(tasks[early.doc_no], tasks[late.doc_no], docs, SERIES_MIN):
            da, db = docs[a.task_id], docs[b.task_id]
            rule = f"同一政府 {early.year} 年与 {late.year} 年的任务内容相近"
            out.append(_Candidate("series", a, b, _confidence(score, da, db), _evidence(da, db, score, rule)))
    elif is_overlap_pair(n, m):
        first, second = sorted((n, m), key=lambda i: i.doc_no)
        for score, a, b in _best_matches(tasks[first.doc_no], tasks[second.doc_no], docs, OVERLAP_MIN):
            da, db = docs[a.task_id], docs[b.task_id]
            rule = f"同年（{n.year}）两份通知中的相同承诺，可能重复"
            out.append(_Candidate("overlap", a, b, _confidence(score, da, db), _evidence(da, db, score, rule)))
    return out


def suggest_links(session: Session, changed: Iterable[RegistryTask], *, now: datetime) -> int:
    """Recompute the suggestions between the changed tasks' notices and every related notice."""
    doc_nos = {t.doc_no for t in changed}
    if not doc_nos:
        return 0
    session.flush()
    notices = {n.doc_no: notice_info(n) for n in session.exec(select(RegistryNotice)).all()}
    live = session.exec(select(RegistryTask).where(col(RegistryTask.removed).is_(False))).all()
    tasks: dict[str, list[RegistryTask]] = {}
    for task in live:
        tasks.setdefault(task.doc_no, []).append(task)
    corpus = Corpus(t.text for t in live)
    docs = {t.task_id: corpus.doc(t.task_id, t.text, t.quantities) for t in live}
    written = 0
    done: set[frozenset[str]] = set()
    for doc_no in sorted(doc_nos):
        for other in sorted(notices):
            pair = frozenset((doc_no, other))
            if other == doc_no or pair in done or doc_no not in notices or other not in tasks:
                continue
            done.add(pair)
            found = _candidates(notices[doc_no], notices[other], tasks, docs)
            written += _store(session, pair, found, now)
    return written


def _store(session: Session, pair: frozenset[str], found: list[_Candidate], now: datetime) -> int:
    """Upsert the pair's suggestions; stale ones go, the office's decisions stay."""
    ids = [t.task_id for t in session.exec(select(RegistryTask).where(col(RegistryTask.doc_no).in_(pair))).all()]
    existing = {
        (link.kind, link.source_task_id, link.target_task_id): link
        for link in session.exec(
            select(TaskLink).where(col(TaskLink.source_task_id).in_(ids), col(TaskLink.target_task_id).in_(ids))
        ).all()
    }
    wanted = {(c.kind, c.source.task_id, c.target.task_id): c for c in found}
    for key, link in existing.items():
        if key not in wanted and link.status == "suggested":
            session.delete(link)
    for key, cand in wanted.items():
        link = existing.get(key)
        if link is None:
            link = TaskLink(
                kind=cand.kind,
                source_task_id=cand.source.task_id,
                target_task_id=cand.target.task_id,
                confidence=cand.confidence,
                evidence=cand.evidence,
                created_at=now,
            )
        elif link.status == "suggested":
            link.confidence, link.evidence = cand.confidence, cand.evidence
        session.add(link)
    session.flush()
    return len(wanted)


def decide_link(session: Session, link_id: int, *, status: str, actor: str, now: datetime) -> TaskLink:
    link = session.get(TaskLink, link_id)
    if link is None:
        raise ApiError(404, "link_not_found", f"未找到关联 {link_id}", f"link {link_id} not found")
    link.status, link.decided_by, link.decided_at = status, actor, now
    session.add(link)
    session.commit()
    return link


def query_links(
    session: Session,
    *,
    kind: str | None = None,
    status: str | None = None,
    task_id: str | None = None,
    notice: str | None = None,
    min_confidence: float = 0.0,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[TaskLink], int]:
    stmt = select(TaskLink).where(TaskLink.confidence >= min_confidence)
    if kind:
        stmt = stmt.where(TaskLink.kind == kind)
    if status:
        stmt = stmt.where(TaskLink.status == status)
    if task_id:
        stmt = stmt.where((TaskLink.source_task_id == task_id) | (TaskLink.target_task_id == task_id))
    if notice:
        in_notice = select(RegistryTask.task_id).where(RegistryTask.doc_no == notice)
        stmt = stmt.where(col(TaskLink.source_task_id).in_(in_notice) | col(TaskLink.target_task_id).in_(in_notice))
    rows = session.exec(stmt.order_by(col(TaskLink.confidence).desc(), col(TaskLink.id))).all()
    return list(rows[offset : offset + limit]), len(rows)


def series_of(session: Session, task_id: str) -> list[RegistryTask]:
    """Every task joined to this one by series links not rejected, in year order."""
    seen = {task_id}
    frontier = [task_id]
    while frontier:
        current = frontier.pop()
        rows = session.exec(
            select(TaskLink).where(
                TaskLink.kind == "series",
                TaskLink.status != "rejected",
                (TaskLink.source_task_id == current) | (TaskLink.target_task_id == current),
            )
        ).all()
        for link in rows:
            for other in (link.source_task_id, link.target_task_id):
                if other not in seen:
                    seen.add(other)
                    frontier.append(other)
    tasks = session.exec(select(RegistryTask).where(col(RegistryTask.task_id).in_(seen))).all()
    return sorted(tasks, key=lambda t: (t.year or 0, t.doc_no, t.number))
