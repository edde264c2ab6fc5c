"""The notify schema as of commit af2f2f5, the last version without migrations.

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
        "notify_clock",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_tick", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "notify_escalation",
        sa.Column("escalation_id", sa.String(length=32), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("task_id", sa.String(length=64), nullable=False),
        sa.Column("unit", sa.String(length=200), nullable=False),
        sa.Column("message", sa.String(), nullable=False),
        sa.Column("raised_at", sa.DateTime(), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("escalation_id"),
    )
    op.create_index(op.f("ix_notify_escalation_level"), "notify_escalation", ["level"], unique=False)
    op.create_index(op.f("ix_notify_escalation_task_id"), "notify_escalation", ["task_id"], unique=False)
    op.create_index(op.f("ix_notify_escalation_unit"), "notify_escalation", ["unit"], unique=False)


def downgrade() -> None:
    raise NotImplementedError("the first revision is not undone: drop the database instead")
