from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from services.common.settings import ServiceSettings
from services.progress.ranking import DEFAULT_WEIGHTS

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

    bulletin_doc_no: str = Field(
        default="兖督通〔{year}〕{n}号",
        description="Pattern of a published bulletin's 文号: {year} and {n}, the serial within that year.",
    )
    bulletin_title: str = Field(
        default="关于{period}重点工作任务落实情况的通报",
        description="Pattern of a bulletin's title: {period} is the period's Chinese name (2026年11月).",
    )
    bulletin_issuer: str = Field(default="督查室", description="Who signs a bulletin (落款).")
    bulletin_main_to: list[str] = Field(
        default_factory=lambda: ["各承办单位"],
        description="A new bulletin's 主送 line (JSON list); editable per draft.",
    )
    bulletin_copy_to: list[str] = Field(
        default_factory=list, description="A new bulletin's 抄送 line (JSON list); editable per draft."
    )
    bulletin_weights: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_WEIGHTS),
        description="Weights of the unit ranking's score (JSON): on_time, flag_mix, closed_on_time (README).",
    )
    bulletin_top: int = Field(default=3, ge=0, le=50, description="Units named at the top and at the bottom.")
    bulletin_honour_roll: bool = Field(
        default=False, description="Name the top units 红榜 and the bottom ones 黑榜 (else 前列 / 靠后)."
    )
    bulletin_schedule: list[str] = Field(
        default_factory=list,
        description="Scheduled bulletins (JSON list), e.g. 每月5日通报上月, 每旬首个工作日通报上旬, "
        "每季首月10日通报上季, each optionally followed by `@文号,文号`; README, Bulletins.",
    )

    @field_validator("bulletin_weights")
    @classmethod
    def _known_weights(cls, weights: dict[str, float]) -> dict[str, float]:
        known = {"on_time", "flag_mix", "closed_on_time"}
        if set(weights) - known or any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
            raise ValueError(f"weights are non-negative numbers for {sorted(known)}, not all zero")
        return weights

    @field_validator("bulletin_schedule")
    @classmethod
    def _known_schedule(cls, entries: list[str]) -> list[str]:
        from services.progress.bulletin_schedule import parse_entry

        for entry in entries:
            parse_entry(entry)
        return entries


@lru_cache
def get_settings() -> ProgressSettings:
    return ProgressSettings()
