"""Scorer: compares a `ParsedNotice` with a hand-checked gold file (see shared/gold/README.md).

Reusable by the txt, docx and pdf tests: `score(parsed, gold)` returns plain dicts and
`accuracies(result)` the per-field figures those tests compare within 1%.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

from proto.notice import ParsedNotice
from tests.shared import NOTICE_NAMES, shared_notice, shared_root

NOTICES = list(NOTICE_NAMES)
DOC_FIELDS = ["doc_no", "issuer", "title", "year", "issued_date"]
TASK_FIELDS = ["chapter", "leaders", "host_units", "co_units", "has_etc", "text_start", "text_end", "deadline_phrases"]
# Fields the parser must get exactly right; quantities and deadlines belong to their own tests.
ASSERTED_FIELDS = ["chapter", "leaders", "host_units", "co_units", "has_etc"]


@cache
def load_gold(name: str) -> dict[str, Any]:
    return json.loads((shared_root() / "gold" / f"{name}.gold.json").read_text(encoding="utf-8"))


def notice_path(name: str, ext: str = "txt") -> Path:
    return shared_notice(name, ext)


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text.replace("**", ""))


def _task_values(task) -> dict[str, Any]:
    text = _compact(task.text)
    return {
        "chapter": task.chapter,
        "leaders": sorted(task.leaders),
        "host_units": sorted(task.host_units),
        "co_units": sorted(task.co_units),
        "has_etc": task.has_etc,
        "text_start": text[:15],
        "text_end": text[-15:],
        "deadline_phrases": list(task.deadline_phrases),
    }


def _gold_values(task: dict[str, Any]) -> dict[str, Any]:
    return {
        "chapter": task["chapter"],
        "leaders": sorted(task["leaders"]),
        "host_units": sorted(task["host_units"]),
        "co_units": sorted(task["co_units"]),
        "has_etc": task["has_etc"],
        "text_start": _compact(task["text_start"]),
        "text_end": _compact(task["text_end"]),
        "deadline_phrases": list(task["deadline_phrases"]),
    }


def _quantity_key(value: float, unit: str) -> tuple[float, str]:
    return round(float(value), 6), unit


def score(parsed: ParsedNotice, gold: dict[str, Any]) -> dict[str, Any]:
    """Task match, per-field exactness, doc fields and quantity F1 of one parse against its gold."""
    doc_got = parsed.doc.model_dump(mode="json")
    doc = {
        f: {"ok": doc_got.get(f) == gold["doc"].get(f), "got": doc_got.get(f), "want": gold["doc"].get(f)}
        for f in DOC_FIELDS
    }
    got_chapters = {c.ordinal: _compact(c.title) for c in parsed.chapters}
    want_chapters = {c["ordinal"]: _compact(c["title"]) for c in gold["chapters"]}
    chapter_titles = {
        "ok": got_chapters == want_chapters,
        "diff": {k: (got_chapters.get(k), v) for k, v in want_chapters.items() if got_chapters.get(k) != v}
        | {k: (v, None) for k, v in got_chapters.items() if k not in want_chapters},
    }
    parsed_by_no: dict[int, Any] = {}
    for t in parsed.tasks:
        parsed_by_no.setdefault(t.number, t)
    gold_numbers = [t["number"] for t in gold["tasks"]]
    missing = [n for n in gold_numbers if n not in parsed_by_no]
    extra = [t.number for t in parsed.tasks if t.number not in set(gold_numbers)]
    extra += [n for n, c in Counter(t.number for t in parsed.tasks).items() if c > 1]
    fields: dict[str, dict[str, Any]] = {f: {"ok": 0, "total": 0, "wrong": []} for f in TASK_FIELDS}
    q_tp = q_fp = q_fn = 0
    for g in gold["tasks"]:
        want = _gold_values(g)
        task = parsed_by_no.get(g["number"])
        got = _task_values(task) if task is not None else None
        for f in TASK_FIELDS:
            fields[f]["total"] += 1
            if got is not None and got[f] == want[f]:
                fields[f]["ok"] += 1
            else:
                fields[f]["wrong"].append((g["number"], None if got is None else got[f], want[f]))
        if g.get("quantities_checked"):
            want_q = Counter(_quantity_key(q["value"], q["unit"]) for q in g["quantities"])
            got_q = Counter(_quantity_key(q.value, q.unit) for q in task.quantities) if task else Counter()
            common = sum((want_q & got_q).values())
            q_tp += common
            q_fp += sum(got_q.values()) - common
            q_fn += sum(want_q.values()) - common
    precision = q_tp / (q_tp + q_fp) if q_tp + q_fp else 0.0
    recall = q_tp / (q_tp + q_fn) if q_tp + q_fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "tasks": {
            "gold": len(gold_numbers),
            "found": len(gold_numbers) - len(missing),
            "missing": missing,
            "extra": sorted(set(extra)),
        },
        "doc": doc,
        "chapter_titles": chapter_titles,
        "fields": fields,
        "quantities": {"tp": q_tp, "fp": q_fp, "fn": q_fn, "precision": precision, "recall": recall, "f1": f1},
    }


def accuracies(result: dict[str, Any]) -> dict[str, float]:
    """Per-field share of gold tasks matched exactly, plus task recall and quantity F1 (0..1)."""
    out = {f: v["ok"] / v["total"] if v["total"] else 1.0 for f, v in result["fields"].items()}
    t = result["tasks"]
    out["tasks_found"] = t["found"] / t["gold"] if t["gold"] else 1.0
    out["quantities_f1"] = result["quantities"]["f1"]
    out["doc"] = sum(v["ok"] for v in result["doc"].values()) / len(result["doc"])
    return out


def format_table(name: str, result: dict[str, Any]) -> str:
    t = result["tasks"]
    lines = [
        f"== {name}",
        f"  tasks      {t['found']}/{t['gold']}  missing={t['missing'][:10]}  extra={t['extra'][:10]}",
        "  doc        " + "  ".join(f"{f}={'ok' if v['ok'] else 'X'}" for f, v in result["doc"].items()),
        f"  chapters   {'ok' if result['chapter_titles']['ok'] else result['chapter_titles']['diff']}",
    ]
    for f, v in result["fields"].items():
        pct = 100.0 * v["ok"] / v["total"] if v["total"] else 100.0
        lines.append(f"  {f:<17}{v['ok']:>4}/{v['total']:<4} {pct:6.1f}%")
    q = result["quantities"]
    lines.append(
        f"  quantities   P={q['precision']:.3f} R={q['recall']:.3f} F1={q['f1']:.3f} "
        f"(tp={q['tp']} fp={q['fp']} fn={q['fn']})"
    )
    return "\n".join(lines)


def format_wrong(result: dict[str, Any], fields: list[str], limit: int = 8) -> str:
    out = []
    for f in fields:
        for number, got, want in result["fields"][f]["wrong"][:limit]:
            out.append(f"  task {number} {f}: got={got!r} want={want!r}")
    return "\n".join(out)


@cache
def txt_accuracies(name: str) -> dict[str, float]:
    """Per-field accuracies of the txt notice: the reference the docx/pdf versions must match."""
    from services.ingest.parsing.parser import parse_text

    parsed = parse_text(notice_path(name).read_text(encoding="utf-8"), source_name=name)
    return accuracies(score(parsed, load_gold(name)))


def differs(got: dict[str, float], reference: dict[str, float], tolerance: float = 0.01) -> dict[str, tuple]:
    """Fields whose accuracy differs from the reference by more than `tolerance` (1% by default)."""
    return {k: (got.get(k), v) for k, v in reference.items() if abs(got.get(k, 0.0) - v) > tolerance}
