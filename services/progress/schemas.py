"""What the progress API accepts and answers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict

from services.common.params import Day, Flag, Line, Link, NonNegativeAmount, Percent, Text

Role = Literal["unit", "office", "supervisor"]
QuantityKey = Annotated[str, Field(max_length=10)]


class ReportIn(BaseModel):
    """A progress report (进度填报) as a unit submits it; the unit is the one of the token."""

    # A misspelt field is refused rather than silently dropped from a report.
    model_config = ConfigDict(extra="forbid")

    narrative: Text = Field(default="", description="工作进展 (at most MAX_NARRATIVE_CHARS characters, else 413).")
    percent: Percent = Field(description="完成情况 in percent, 0–100 (a JSON number).")
    quantities: dict[QuantityKey, NonNegativeAmount] = Field(
        max_length=100,
        default_factory=dict,
        description='Value reached per task quantity, keyed by its index ("0", "1"…).',
    )
    issues: Text = Field(default="", max_length=5000, description="存在问题.")
    next_steps: Text = Field(default="", max_length=5000, description="下步打算.")
    period: Line | None = Field(
        default=None,
        max_length=20,
        description="Reporting period: 2026-03 (month), 2026-03-上旬 (旬) or 2026-W10 (ISO week), as the notice "
        "is configured; default the current one.",
    )
    links: list[Link] = Field(
        default_factory=list, max_length=20, description="Links to supporting material (http or https)."
    )


class ReportAccepted(BaseModel):
    report_id: str
    task_id: str
    unit_id: str
    period: str | None
    completion: float = Field(description="Completion this report gives, in percent.")
    stale: bool = Field(description="The narrative repeats the unit's previous period's.")
    flag: str
    percent: float = Field(description="The task's completion after this report.")
    expected_percent: float
    reason: str


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role = "unit"
    unit: Line | None = Field(default=None, max_length=200, description="For a unit token: the unit's name or id.")
    post: Line | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="For a supervisor token: the post, e.g. 区长 or 督查室主任.",
    )
    label: Line = Field(default="", max_length=200, description="Who holds the token, for the office's list.")
    valid_days: Annotated[int, Strict()] | None = Field(
        default=None, ge=1, le=3660, description="Days until the token expires; none: until revoked."
    )


class TokenIssued(BaseModel):
    token_id: str
    token: str = Field(description="The secret; shown only in this answer.")
    role: str
    unit_id: str | None
    unit_name: str | None
    post_id: str | None = None
    expires_at: datetime | None = None


class TokenPublic(BaseModel):
    token_id: str
    role: str
    unit_id: str | None
    post_id: str | None = None
    label: str
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None


class ExtensionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    due_date: Day = Field(description="The new due date asked for.")
    reason: Text = Field(min_length=2, max_length=2000, description="Why the task needs more time.")


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    approve: Flag
    comment: Text = Field(default="", max_length=2000, description="Required when sending a close-out back.")


class CloseoutIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    summary: Text = Field(default="", max_length=5000, description="What was achieved (完成情况总结).")


class RollupRow(BaseModel):
    key: str
    label: str
    total: int
    blue: int
    yellow: int
    red: int
    closed: int
    overdue: int
    average_completion: float
    on_time_rate: float | None = Field(
        default=None, description="With period=: share of the reports due in the period that came in on time, in %."
    )
    completion_rate: float | None = Field(default=None, description="With period=: share of tasks closed (办结), in %.")
    score: float | None = Field(default=None, description="With period= or sort=score, by unit: the ranking score.")
    rank: int | None = Field(default=None, description="With period= or sort=score, by unit: the rank by score.")


class RollupsPublic(BaseModel):
    by: str
    notice: str | None = Field(
        default=None, description="The notice (文号 or id) the roll-ups were limited to, when only one was named."
    )
    notices: list[str] = Field(default_factory=list, description="Every notice named (文号 or id).")
    period: str | None = Field(
        default=None, description="The period whose end the figures stand at (with period= or sort=score)."
    )
    data: list[RollupRow]
    count: int


class TaskStatus(BaseModel):
    task_id: str
    key: str
    doc_no: str
    number: int
    flag: str
    rule: str
    reason: str
    percent: float = Field(description="Completion: mean of the host units' latest reports.")
    expected_percent: float
    overdue: bool
    missed_periods: int
    stale: bool = Field(description="The report shown for the task repeats its unit's previous period.")
    latest_report_id: str | None = Field(
        default=None, description="The report shown for the task: the host units' latest period, else a co-unit's."
    )
    latest_unit: str | None = Field(default=None, description="Who made the report shown for the task.")
    latest_period: str | None = None
    closeout_state: str
    supervision: str = Field(
        default="supervised",
        description="The notice's state: only a supervised task is judged (else rule `reference`).",
    )
    supervision_start: date | None = Field(
        default=None,
        description="The day supervision started; until its first whole period ends the rule is `baseline`.",
    )
    due_date: date | None
    original_due_date: date | None
    last_report_at: datetime | None
    days_since_last_report: int | None
    report_count: int
    unacknowledged: list[str] = Field(description="Host unit ids that have not signed for the task.")
    latest_by_unit: list[dict[str, object]]
    reports: list[dict[str, object]]
    extensions: list[dict[str, object]]
    closeouts: list[dict[str, object]]


AddressLine = Annotated[Line, Field(min_length=1, max_length=200)]


class BulletinIn(BaseModel):
    """A bulletin to draft: the notices, and the period as a label or as from–to (both days included)."""

    model_config = ConfigDict(extra="forbid")

    notices: list[Annotated[Line, Field(min_length=1, max_length=200)]] = Field(
        min_length=1, max_length=50, description="The notices' 文号 or ids; one bulletin covers them together."
    )
    period: Line | None = Field(
        default=None, max_length=40, description="2026-11 (month), 2026-11-上旬 (旬), 2026-Q4 (quarter)."
    )
    from_: Day | None = Field(default=None, alias="from", description="First day of a from–to period.")
    to: Day | None = Field(default=None, description="Last day of a from–to period.")
    main_to: list[AddressLine] | None = Field(default=None, max_length=50, description="主送 (default: the settings').")
    copy_to: list[AddressLine] | None = Field(default=None, max_length=50, description="抄送 (default: the settings').")
    comments: Text = Field(default="", max_length=5000, description="The office's comments (下步工作要求).")


class BulletinPatch(BaseModel):
    """What the office may change in a draft: its comments and its 主送/抄送 lines."""

    model_config = ConfigDict(extra="forbid")

    comments: Text | None = Field(default=None, max_length=5000)
    main_to: list[AddressLine] | None = Field(default=None, max_length=50)
    copy_to: list[AddressLine] | None = Field(default=None, max_length=50)


class BulletinPublic(BaseModel):
    bulletin_id: str
    state: Literal["draft", "published"]
    title: str
    doc_no: str | None
    notices: list[str]
    period_label: str
    period_start: date
    period_end: date
    comments: str
    main_to: list[str]
    copy_to: list[str]
    schedule_rule: str | None
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    links: dict[str, str] = Field(description="URL paths of the .docx, .html and .xlsx renderings.")
    figures: dict[str, Any] | None = Field(
        default=None, description="Every section's figures (in the answer for one bulletin, not in lists)."
    )


class BulletinsPublic(BaseModel):
    data: list[BulletinPublic]
    count: int
