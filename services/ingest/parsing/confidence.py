"""How far a parse can be trusted: a confidence per task from the rules that produced it, and
whether the notice as a whole is doubtful enough for the office to check before supervision.

A task read from labels (`牵头单位：…`) or table columns is as sure as the parser gets; one whose
units came from a list without labels, from the end of a flattened row or from no assignment at
all less so; each fallback rule applied (its warning) takes a little more; text recognised from
a scan (OCR) scales the whole. A notice is doubtful when it was OCR'd, when it yields few tasks
for its length, or when most of its tasks rest on fallbacks.
"""

from __future__ import annotations

from proto.notice import ParsedNotice, ParsedTask

# How a task's assignment was found → the confidence it starts from.
RULE_BASE = {"inline": 1.0, "lines": 1.0, "table": 1.0, "flat_row": 0.85, "unlabelled": 0.75, "none": 0.4}
RULE_NAMES = {
    "inline": "括注标签",
    "lines": "分行标签",
    "table": "表格列",
    "flat_row": "行末单位（无标签）",
    "unlabelled": "括注单位（无标签）",
    "none": "未找到分工",
}
# Fallback rules (their warning codes) and what each takes off.
PENALTY = {
    "host_first_group": 0.1,
    "no_comma_all_hosts": 0.1,
    "responsible_as_hosts": 0.1,
    "merged_name": 0.05,
    "collective_in_hosts": 0.05,
    "task_number_gap": 0.1,
    "table_unnumbered": 0.1,
    "name_too_long": 0.2,
}
OCR_FACTOR = 0.75
LOW = 0.7  # a task below this rests on fallbacks
MAX_CHARS_PER_TASK = 2500  # the shared notices have 450–950; far more means tasks were missed
MAX_LOW_SHARE = 0.5


def task_confidence(task: ParsedTask, *, ocr: bool = False) -> float:
    score = RULE_BASE.get(task.rule, 0.5) - sum(PENALTY.get(w.code, 0.0) for w in task.warnings)
    if ocr:
        score *= OCR_FACTOR
    return round(min(1.0, max(0.05, score)), 2)


def review_reasons(notice: ParsedNotice, *, text_chars: int, ocr: bool) -> list[str]:
    """Why the parse should be checked before supervision (Chinese / English); [] when it need not."""
    reasons: list[str] = []
    if ocr:
        reasons.append("文字由扫描件识别（OCR） / text recognised from a scan (OCR)")
    tasks = len(notice.tasks)
    if tasks and text_chars / tasks > MAX_CHARS_PER_TASK:
        reasons.append(
            f"篇幅 {text_chars} 字仅识别出 {tasks} 项任务 / only {tasks} tasks found in {text_chars} characters"
        )
    low = sum(1 for t in notice.tasks if t.confidence < LOW)
    if tasks and low / tasks >= MAX_LOW_SHARE:
        reasons.append(f"{low}/{tasks} 项任务依靠推断规则解析 / {low} of {tasks} tasks rest on fallback rules")
    return reasons
