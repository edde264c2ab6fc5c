"""`bulletin.published`: a periodic 通报 of flags by unit and leader, published by progress.

It carries what a DingTalk/WeCom summary with a link and an e-mail with the .docx attached need;
the renderings are fetched from the URL paths (below the gateway's origin) with an office or
supervisor token.
"""

from __future__ import annotations

from datetime import date

from pydantic import Field

from proto.envelope import Event


class BulletinPublished(Event):
    bulletin_id: str = Field(description="Id of the bulletin.")
    title: str = Field(description="Chinese title, e.g. 关于2026年11月重点工作任务落实情况的通报.")
    period: str = Field(
        description="The period covered, as a label: 2026-11, 2026-11-上旬, 2026-Q4, 2026-11-01~2026-11-15."
    )
    counts: dict[str, int] = Field(
        default_factory=dict,
        description="Tasks per flag (blue, yellow, red), and total, closed (办结), overdue, units_not_reported.",
    )
    doc_no: str = Field(default="", description="The bulletin's 文号, e.g. 兖督通〔2026〕3号.")
    period_name: str = Field(default="", description="The period in Chinese: 2026年11月.")
    period_start: date | None = Field(default=None, description="First day covered (China date).")
    period_end: date | None = Field(default=None, description="Last day covered (China date).")
    notices: list[str] = Field(default_factory=list, description="文号 of the notices the bulletin covers.")
    main_to: list[str] = Field(default_factory=list, description="主送: who the bulletin is addressed to.")
    copy_to: list[str] = Field(default_factory=list, description="抄送: who gets a copy.")
    issuer: str = Field(default="", description="Who signs it (落款), e.g. 督查室.")
    top_units: list[str] = Field(default_factory=list, description="Units named at the top of the ranking (红榜).")
    bottom_units: list[str] = Field(default_factory=list, description="Units named at the bottom (黑榜).")
    summary: str = Field(default="", description="A Chinese summary of a few lines, for a robot message.")
    links: dict[str, str] = Field(
        default_factory=dict,
        description="URL paths of the renderings by format (docx, html, xlsx), e.g. /api/progress/bulletins/{id}.docx.",
    )
    docx_filename: str = Field(default="", description="A file name for the .docx attachment.")
