"""The progress schema as of commit af2f2f5, the last version without migrations.

Timestamps were plain (naive) `DateTime` then. A database made by that version's `create_all`
has exactly this and no version table; it is stamped at this revision when it is first migrated.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from services.common.migration_steps import create_inbox_and_outbox

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_inbox_and_outbox()
    op.create_table(
        "progress_closeout",
        sa.Column("closeout_id", sa.String(length=32), nullable=False),
        sa.Column("task_id", sa.String(length=64), nullable=False),
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("summary", sa.String(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by", sa.String(length=16), nullable=True),
        sa.Column("comment", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("closeout_id"),
    )
    op.create_index(op.f("ix_progress_closeout_state"), "progress_closeout", ["state"], unique=False)
    op.create_index(op.f("ix_progress_closeout_task_id"), "progress_closeout", ["task_id"], unique=False)
    op.create_table(
        "progress_extension",
        sa.Column("extension_id", sa.String(length=32), nullable=False),
        sa.Column("task_id", sa.String(length=64), nullable=False),
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("previous_due_date", sa.Date(), nullable=True),
        sa.Column("requested_due_date", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by", sa.String(length=16), nullable=True),
        sa.Column("comment", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("extension_id"),
    )
    op.create_index(op.f("ix_progress_extension_state"), "progress_extension", ["state"], unique=False)
    op.create_index(op.f("ix_progress_extension_task_id"), "progress_extension", ["task_id"], unique=False)
    op.create_table(
        "progress_receipt",
        sa.Column("task_id", sa.String(length=64), nullable=False),
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("assigned_on", sa.Date(), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("task_id", "unit_id"),
    )
    op.create_index(op.f("ix_progress_receipt_acknowledged_at"), "progress_receipt", ["acknowledged_at"], unique=False)
    op.create_table(
        "progress_report",
        sa.Column("report_id", sa.String(length=32), nullable=False),
        sa.Column("task_id", sa.String(length=64), nullable=False),
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("unit", sa.String(length=200), nullable=False),
        sa.Column("period", sa.String(length=20), nullable=True),
        sa.Column("percent", sa.Float(), nullable=False),
        sa.Column("completion", sa.Float(), nullable=False),
        sa.Column("narrative", sa.String(), nullable=False),
        sa.Column("issues", sa.String(), nullable=False),
        sa.Column("next_steps", sa.String(), nullable=False),
        sa.Column("quantities", sa.JSON(), nullable=False),
        sa.Column("links", sa.JSON(), nullable=False),
        sa.Column("stale", sa.Boolean(), nullable=False),
        sa.Column("similarity", sa.Float(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("answer", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("report_id"),
        sa.UniqueConstraint("unit_id", "idempotency_key", name="uq_progress_report_idempotency"),
    )
    op.create_index("ix_progress_report_task_received", "progress_report", ["task_id", "received_at"], unique=False)
    op.create_table(
        "progress_rollup",
        sa.Column("dimension", sa.String(length=10), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("label", sa.String(length=250), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("blue", sa.Integer(), nullable=False),
        sa.Column("yellow", sa.Integer(), nullable=False),
        sa.Column("red", sa.Integer(), nullable=False),
        sa.Column("closed", sa.Integer(), nullable=False),
        sa.Column("overdue", sa.Integer(), nullable=False),
        sa.Column("completion_tenths", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("dimension", "key"),
    )
    op.create_table(
        "progress_task",
        sa.Column("task_id", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("notice_id", sa.String(length=64), nullable=False),
        sa.Column("doc_no", sa.String(length=200), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("chapter", sa.String(length=20), nullable=True),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("leaders", sa.JSON(), nullable=False),
        sa.Column("host_units", sa.JSON(), nullable=False),
        sa.Column("co_units", sa.JSON(), nullable=False),
        sa.Column("host_unit_ids", sa.JSON(), nullable=False),
        sa.Column("co_unit_ids", sa.JSON(), nullable=False),
        sa.Column("quantities", sa.JSON(), nullable=False),
        sa.Column("deadline_phrase", sa.String(), nullable=True),
        sa.Column("issued_date", sa.Date(), nullable=True),
        sa.Column("assigned_on", sa.Date(), nullable=True),
        sa.Column("original_due_date", sa.Date(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("task_version", sa.Integer(), nullable=False),
        sa.Column("removed", sa.Boolean(), nullable=False),
        sa.Column("percent", sa.Float(), nullable=False),
        sa.Column("expected_percent", sa.Float(), nullable=False),
        sa.Column("flag", sa.String(length=10), nullable=False),
        sa.Column("rule", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("overdue", sa.Boolean(), nullable=False),
        sa.Column("missed_periods", sa.Integer(), nullable=False),
        sa.Column("unacknowledged_since", sa.Date(), nullable=True),
        sa.Column("reported_through", sa.Date(), nullable=True),
        sa.Column("last_report_at", sa.DateTime(), nullable=True),
        sa.Column("report_count", sa.Integer(), nullable=False),
        sa.Column("latest_report_id", sa.String(length=32), nullable=True),
        sa.Column("latest_unit", sa.String(length=200), nullable=True),
        sa.Column("latest_period", sa.String(length=20), nullable=True),
        sa.Column("latest_narrative", sa.String(), nullable=False),
        sa.Column("stale", sa.Boolean(), nullable=False),
        sa.Column("achieved", sa.JSON(), nullable=False),
        sa.Column("closeout_state", sa.String(length=12), nullable=False),
        sa.Column("rollup", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("task_id"),
    )
    op.create_index(op.f("ix_progress_task_doc_no"), "progress_task", ["doc_no"], unique=False)
    op.create_index(op.f("ix_progress_task_flag"), "progress_task", ["flag"], unique=False)
    op.create_index(op.f("ix_progress_task_notice_id"), "progress_task", ["notice_id"], unique=False)
    op.create_table(
        "progress_token",
        sa.Column("token_id", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("unit_id", sa.String(length=64), nullable=True),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("token_id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index(op.f("ix_progress_token_unit_id"), "progress_token", ["unit_id"], unique=False)
    op.create_table(
        "progress_unit",
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("canonical", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("unit_id"),
    )
    op.create_index(op.f("ix_progress_unit_canonical"), "progress_unit", ["canonical"], unique=False)
    op.create_index(op.f("ix_progress_unit_name"), "progress_unit", ["name"], unique=False)
    op.create_table(
        "progress_unit_latest",
        sa.Column("task_id", sa.String(length=64), nullable=False),
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("report_id", sa.String(length=32), nullable=False),
        sa.Column("completion", sa.Float(), nullable=False),
        sa.Column("period", sa.String(length=20), nullable=True),
        sa.Column("narrative", sa.String(), nullable=False),
        sa.Column("previous_narrative", sa.String(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("task_id", "unit_id"),
    )


def downgrade() -> None:
    raise NotImplementedError("the first revision is not undone: drop the database instead")
