"""The Chinese text of a step: it names the notice, the task, the units and the figures, so it
stands on its own in a DingTalk group or an e-mail, never a bare id."""

from __future__ import annotations

from dataclasses import dataclass

from services.notify.models import ChasedTask

SHORT_TEXT = 40


@dataclass(frozen=True)
class Cause:
    """What a step says happened, with the figures that belong to it."""

    rule: str
    step: int = 1
    period: str = ""  # the reporting period concerned
    days: int = 0  # working days: until the deadline, unsigned, unacknowledged
    chased: int = 0  # 催办 already sent, for a 督办 after them
    after: str = ""  # the rule a 督办 climbed from (report_missing, receipt_missing)
    head: str = "督查室主任"


def label(rule: str, step: int) -> str:
    """The bracketed word of the title: 临近提醒, 第2次催办, 督办, 提级督办…"""
    if rule.startswith("advance"):
        return "临近提醒"
    if rule == "head":
        return "提级督办"
    word = "督办" if rule in ("red", "unanswered") else "催办"
    return word if step <= 1 else f"第{step}次{word}"


def title(task: ChasedTask, cause: Cause) -> str:
    return f"【{label(cause.rule, cause.step)}】{task.doc_no} 第{task.number}项"


def short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SHORT_TEXT else text[:SHORT_TEXT] + "…"


def _what(task: ChasedTask, cause: Cause) -> str:
    if cause.rule == "advance_due":
        return f"任务完成时限为 {task.due_date}，还有 {cause.days} 个工作日，请抓紧推进。"
    if cause.rule == "report_missing":
        return f"{cause.period} 进展至今未报送，请立即报送。"
    if cause.rule == "receipt_missing":
        return f"交办已 {cause.days} 个工作日仍未签收，请立即签收。"
    if cause.rule == "unanswered":
        what = "签收" if cause.after == "receipt_missing" else "报送进展"
        return f"经 {cause.chased} 次催办仍未{what}，现予督办，请责任领导督促落实。"
    if cause.rule == "head":
        return f"督办已 {cause.days} 个工作日未获签收，提请{cause.head}督办，并列入下期通报。"
    reason = task.reason.split(" / ")[0] if task.reason else "任务亮红灯"
    return f"任务亮红灯：{reason}。请责任领导督促落实。"


def figures(task: ChasedTask) -> str:
    gap = round(task.expected_percent - task.percent, 1)
    text = f"序时进度 {task.expected_percent:g}%，实际完成 {task.percent:g}%"
    if gap > 0:
        text += f"，滞后 {gap:g} 个百分点"
    return text


def compose(
    task: ChasedTask, cause: Cause, *, units: list[str], leaders: list[str], missed: int, link: str
) -> tuple[str, str]:
    """The title and the message of one step."""
    head = title(task, cause)
    parts = [f"{head}「{short(task.text)}」：{_what(task, cause)}"]
    numbers = figures(task)
    if missed:
        numbers += f"；已 {missed} 个周期未报送"
    parts.append(numbers + "。")
    if units:
        parts.append(f"牵头单位：{'、'.join(units)}。")
    if leaders:
        parts.append(f"责任领导：{'、'.join(leaders)}。")
    if task.due_date:
        parts.append(f"完成时限：{task.due_date}。")
    parts.append(f"详情：{link}")
    return head, "".join(parts)
