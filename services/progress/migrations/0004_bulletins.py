"""Bulletins (通报): the documents, the 文号 counter per year, and the tasks the ladder marked for them.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 07:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from services.common.migration_steps import refuse_downgrade

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A database made by `create_all` of this version already has them (it is adopted at 0001).
    inspector = sa.inspect(op.get_bind())
    if not inspector.has_table("progress_bulletin"):
        op.create_table(
            "progress_bulletin",
            sa.Column("bulletin_id", sa.String(length=64), nullable=False),
            sa.Column("state", sa.String(length=10), nullable=False),
            sa.Column("notices", sa.JSON(), nullable=False),
            sa.Column("notice_key", sa.String(length=1000), nullable=False),
            sa.Column("period_label", sa.String(length=40), nullable=False),
            sa.Column("period_start", sa.Date(), nullable=False),
            sa.Column("period_end", sa.Date(), nullable=False),
            sa.Column("title", sa.String(length=300), nullable=False),
            sa.Column("doc_no", sa.String(length=100), nullable=True),
            sa.Column("doc_year", sa.Integer(), nullable=True),
            sa.Column("doc_serial", sa.Integer(), nullable=True),
            sa.Column("comments", sa.String(), nullable=False),
            sa.Column("main_to", sa.JSON(), nullable=False),
            sa.Column("copy_to", sa.JSON(), nullable=False),
            sa.Column("figures", sa.JSON(), nullable=False),
            sa.Column("schedule_rule", sa.String(length=100), nullable=True),
            sa.Column("created_at", sa.DateTime(), nullable=False),
            sa.Column("created_by", sa.String(length=120), nullable=False),
            sa.Column("updated_at", sa.DateTime(), nullable=False),
            sa.Column("published_at", sa.DateTime(), nullable=True),
            sa.Column("published_by", sa.String(length=120), nullable=True),
            sa.PrimaryKeyConstraint("bulletin_id"),
        )
        for column in ("state", "notice_key", "period_end"):
            op.create_index(op.f(f"ix_progress_bulletin_{column}"), "progress_bulletin", [column], unique=False)
    if not inspector.has_table("progress_bulletin_counter"):
        op.create_table(
            "progress_bulletin_counter",
            sa.Column("year", sa.Integer(), nullable=False),
            sa.Column("last", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("year"),
        )
    if not inspector.has_table("progress_bulletin_mark"):
        op.create_table(
            "progress_bulletin_mark",
            sa.Column("escalation_id", sa.String(length=64), nullable=False),
            sa.Column("task_id", sa.String(length=64), nullable=False),
            sa.Column("unit_id", sa.String(length=64), nullable=False),
            sa.Column("level", sa.String(length=20), nullable=False),
            sa.Column("message", sa.String(), nullable=False),
            sa.Column("raised_at", sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint("escalation_id"),
        )
        for column in ("task_id", "raised_at"):
            op.create_index(
                op.f(f"ix_progress_bulletin_mark_{column}"), "progress_bulletin_mark", [column], unique=False
            )


def downgrade() -> None:
    refuse_downgrade()
