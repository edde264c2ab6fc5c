"""Dated steps within one task: `上半年完成100个，年底前完成200个` → (6-30, 100个), (12-31, 200个).

A task that names two or more due dates in separate clauses is due in stages; each clause with a
time phrase becomes a milestone carrying the figure it reaches, if any. The progress service
paces the task along them instead of along a straight line to the last date.
"""

from __future__ import annotations

import re
from datetime import date

from proto.notice import Milestone
from services.ingest.parsing.deadlines import extract_deadline_phrases, phrase_due_date
from services.ingest.parsing.normalise import compact
from services.ingest.parsing.quantities import extract_quantities

_CLAUSE_RE = re.compile(r"[，,；;。]")
# Words that state the whole of the work: the step reaches 100%.
_WHOLE_RE = re.compile(r"全部完成|全面完成|全部建成|全面建成|全覆盖|全部到位|全面到位")


def extract_milestones(
    text: str, year: int | None, issued: date | None, phrases: list[str] | None = None
) -> list[Milestone]:
    """The task's milestones, earliest first; [] when it names fewer than two due dates.

    `phrases`: the task's time phrases when already found; most tasks name one date at most,
    and for them the clauses are not read again.
    """
    base = year if year is not None else (issued.year if issued else None)
    if phrases is not None and len({phrase_due_date(p, base) for p in phrases} - {None}) < 2:
        return []
    steps: dict[date, Milestone] = {}
    for clause in _CLAUSE_RE.split(text):
        dated = [(p, d) for p in extract_deadline_phrases(clause) if (d := phrase_due_date(p, base)) is not None]
        if not dated:
            continue
        phrase, due = max(dated, key=lambda pd: pd[1])
        if due in steps:
            continue
        quantities = extract_quantities(clause)
        figure = quantities[-1] if quantities else None
        value, unit = (figure.value, figure.unit) if figure else (None, None)
        if figure is None and _WHOLE_RE.search(clause):
            value, unit = 100.0, "%"
        steps[due] = Milestone(phrase=phrase, due_date=due, target=compact(clause), value=value, unit=unit)
    if len(steps) < 2:
        return []
    return [steps[d] for d in sorted(steps)]
