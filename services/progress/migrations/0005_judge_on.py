"""`progress_task.judge_on`: the next day time alone may change a task's flag, so the daily tick
re-judges only the tasks due. NULL on the rows already there: the first tick judges them all
and sets it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 07:25:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from services.common.migration_steps import has_column, refuse_downgrade

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A database made by `create_all` of this version already has it (it is adopted at 0001).
    if has_column(sa.inspect(op.get_bind()), "progress_task", "judge_on"):
        return
    with op.batch_alter_table("progress_task", schema=None) as batch_op:
        batch_op.add_column(sa.Column("judge_on", sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f("ix_progress_task_judge_on"), ["judge_on"], unique=False)


def downgrade() -> None:
    refuse_downgrade()
