from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.common.settings import ServiceSettings

PeriodKind = Literal["month", "xun", "week"]


class ProgressSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="LUOSHI_PROGRESS_", extra="ignore")

    service_name: str = "progress"
    yellow_gap: float = Field(default=10.0, description="Points behind the expected percent that turn a task yellow.")
    red_gap: float = Field(default=30.0, description="Points behind the expected percent that turn a task red.")
    max_narrative_chars: int = Field(default=5000, description="Longest accepted 工作进展 text.")
    period: PeriodKind = Field(default="month", description="Reporting period of a notice not named in notice_periods.")
    notice_periods: dict[str, PeriodKind] = Field(
        default_factory=dict, description="Reporting period per notice, keyed by 文号 or notice id (JSON)."
    )
    report_grace_days: int = Field(default=5, ge=0, description="Days after a period's end before it counts missed.")
    yellow_missed: int = Field(default=1, ge=1, description="Missed reporting periods that turn a task yellow.")
    red_missed: int = Field(default=2, ge=1, description="Missed reporting periods that turn a task red.")
    receipt_days: int = Field(
        default=3, ge=0, description="Working days a host unit has to sign for (签收) a new task."
    )
    stale_similarity: float = Field(
        default=0.9,
        ge=0,
        le=1,
        description="Character-bigram similarity to the previous period's narrative that marks a report stale.",
    )
    public_reads: bool = Field(
        default=False,
        description="The roll-ups (`GET /status`) can be read without a token; everything else needs one.",
    )
    group_commit_wait_ms: float = Field(
        default=2.0,
        ge=0,
        le=50,
        description="How long the report writer waits for more reports before a commit, when they arrive faster "
        "than one per wait (0: never waits).",
    )


@lru_cache
def get_settings() -> ProgressSettings:
    return ProgressSettings()
