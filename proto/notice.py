"""`notice.parsed`: what the ingest service read out of an uploaded notice.

`ParsedNotice` is also the output of `luoshi parse FILE --json`: one contract for the CLI,
the HTTP answer and the event.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from proto.envelope import Event

# 督办中, 参考 (kept, searchable, linked, never judged or chased), 已归档.
Supervision = Literal["supervised", "reference", "archived"]


class ParseWarning(BaseModel):
    """A rule the parser fell back on, for the office to check."""

    code: str = Field(description="Stable machine code, e.g. `host_first_group`.", examples=["host_first_group"])
    message: str = Field(description="Chinese-first explanation for the office.")


class Quantity(BaseModel):
    text: str = Field(description="The phrase naming the target, as written (whitespace removed).")
    value: float = Field(description="The number written before the unit (the low bound of a range).")
    unit: str = Field(description="The measure unit with its magnitude prefix: 家, 亿元, 万亩, %, GWh…")
    value_max: float | None = Field(default=None, description="The high bound of a range such as 1-3个.")
    qualifier: str | None = Field(
        default=None, description="A qualifier kept from the text: 以上, 左右, 突破, 力争, 以内…"
    )


class Deadline(BaseModel):
    phrase: str = Field(description="The time limit as written: 年内, 上半年, 6月底前…")
    due_date: date = Field(description="The date inferred from the phrase and the notice's year.")


class Milestone(BaseModel):
    """One step of a task due in stages: `上半年完成100个，年底前完成200个` gives two."""

    phrase: str = Field(description="The time phrase of the step as written: 上半年, 6月底前, 2025年…")
    due_date: date = Field(description="The date the phrase falls due, in the notice's year.")
    target: str = Field(description="The clause the step asks for, as written (whitespace removed).")
    value: float | None = Field(default=None, description="The figure the step reaches, when it names one.")
    unit: str | None = Field(default=None, description="The unit of `value` (个, 亿元, %…).")


class Indicator(BaseModel):
    """A main expected indicator (主要预期目标), e.g. GDP 增长 6%."""

    name: str = Field(description="What is measured: GDP, 一般公共预算收入…")
    text: str = Field(description="The indicator as written.")
    value: float | None = Field(default=None, description="The number, if any.")
    unit: str | None = Field(default=None, description="The unit, if any (%).")


class DocHeader(BaseModel):
    doc_no: str | None = Field(default=None, description="文号, normalised to 〔〕 without spaces.")
    issuer: str | None = Field(default=None, description="发文机关, e.g. 济宁市兖州区人民政府.")
    title: str | None = Field(default=None, description="Issuer + 关于…的通知.")
    year: int | None = Field(default=None, description="Year of the doc_no (else of the issued date).")
    issued_date: date | None = Field(default=None, description="The signature date (not the 印发 date).")
    addressees: list[str] = Field(default_factory=list, description="主送机关 as listed.")


class Chapter(BaseModel):
    ordinal: str = Field(description="Chinese ordinal: 一, 二, …")
    title: str
    leaders: list[str] = Field(default_factory=list, description="Leaders given once on the chapter heading.")


class ParsedTask(BaseModel):
    number: int = Field(description="The task number as written in the notice.")
    chapter: str | None = Field(default=None, description="Ordinal of the chapter holding the task.")
    text: str = Field(description="The cleaned task text, without number and assignment.")
    leaders: list[str] = Field(default_factory=list, description="牵头领导 / 责任领导.")
    host_units: list[str] = Field(default_factory=list, description="主办单位 / 牵头单位.")
    co_units: list[str] = Field(default_factory=list, description="协办单位 / 责任单位 / 配合单位.")
    has_etc: bool = Field(default=False, description="A unit list ended in 等.")
    deadline: Deadline | None = Field(default=None, description="The governing deadline of the task.")
    deadline_phrases: list[str] = Field(default_factory=list, description="Every time phrase, in order.")
    quantities: list[Quantity] = Field(default_factory=list)
    word_targets: list[Quantity] = Field(
        default_factory=list,
        description="Targets written as words (创千亿, 翻一番, 全覆盖) with the value each implies; apart from the figures.",
    )
    milestones: list[Milestone] = Field(
        default_factory=list, description="Dated steps when the task names two or more due dates, earliest first."
    )
    rule: str = Field(
        default="",
        description="How the assignment was found: inline, lines, table, flat_row, unlabelled or none.",
    )
    confidence: float = Field(
        default=1.0, ge=0, le=1, description="How far the parse of the task can be trusted, from its rules (0–1)."
    )
    warnings: list[ParseWarning] = Field(default_factory=list)


class ParsedNotice(BaseModel):
    doc: DocHeader = Field(default_factory=DocHeader)
    indicators: list[Indicator] = Field(default_factory=list)
    chapters: list[Chapter] = Field(default_factory=list)
    tasks: list[ParsedTask] = Field(default_factory=list)
    warnings: list[ParseWarning] = Field(default_factory=list)
    review: list[str] = Field(
        default_factory=list,
        description="Why the parse is doubtful (OCR, few tasks for its length, mostly fallback rules); a new "
        "notice with reasons, uploaded without a supervision choice, is registered as 参考 for the office to check.",
    )


class NoticeParsed(Event):
    """Published by ingest once an uploaded notice has been parsed."""

    notice_id: str = Field(description="Id of the upload: the sha256 of its bytes, first 16 hex digits.")
    sha256: str = Field(description="sha256 of the uploaded bytes.")
    filename: str = Field(description="Name of the uploaded file.")
    parse: ParsedNotice = Field(description="The whole parse: header, indicators, chapters and tasks.")
    supervision: Supervision | None = Field(
        default=None,
        description="The office's choice at upload; None: the registry's default (supervised for a notice of "
        "the upload's year, reference for an older one). A later version of a registered notice changes its "
        "state only when the office chose one.",
    )
    supervision_start: date | None = Field(
        default=None, description="The day supervision starts, chosen at upload; None: the upload day."
    )
    uploaded_on: date | None = Field(
        default=None, description="The upload's date in the office's timezone (China time), by ingest's clock."
    )
