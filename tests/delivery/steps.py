"""`OutgoingStep` values as the ladder makes them, built by hand for the delivery tests."""

from __future__ import annotations

from datetime import UTC, datetime

from services.common.clock import CHINA
from services.notify.outgoing import LEVEL_NAMES, OutgoingStep, Recipient

DOC = "济兖政发〔2025〕1号"
# Monday 2 March 2026, 10:00 in China: a working day, inside office hours.
MONDAY_10 = datetime(2026, 3, 2, 10, 0, tzinfo=CHINA).astimezone(UTC)


def step(
    n: int,
    *,
    level: str = "reminder",
    units: tuple[str, ...] = ("u1",),
    posts: tuple[str, ...] = (),
    office: bool = False,
    doc_no: str = DOC,
    rule: str = "report_missing",
    at: datetime = MONDAY_10,
) -> OutgoingStep:
    recipients = [Recipient("unit", u, f"单位{u}") for u in units]
    recipients += [Recipient("post", p, f"职务{p}", holder="张三") for p in posts]
    if office:
        recipients.append(Recipient("office", "office", "督查室", copy=True))
    title = f"【{LEVEL_NAMES[level]}】{doc_no} 第{n}项"
    return OutgoingStep(
        step_id=f"step-{level}-{n}",
        escalation_id=f"esc-{n}",
        task_id=f"task-{n}",
        doc_no=doc_no,
        task_number=n,
        level=level,
        rule=rule,
        step=1,
        title=title,
        message=f"{title}：序时进度 45%，实际完成 10%，滞后 35 个百分点；已 2 个周期未报送。",
        link=f"http://console.test/tasks/task-{n}",
        raised_on=at.astimezone(CHINA).date(),
        raised_at=at,
        recipients=tuple(recipients),
        leaders=posts,
    )
