"""`progress_task.judge_on`: the next day time alone may change a task's flag, so the daily tick
re-judges only the tasks due. NULL on the rows already there: the first tick judges them all
and sets it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 07:25:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from services.common.migration_steps import add_column_if_missing, refuse_downgrade

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_column_if_missing("progress_task", sa.Column("judge_on", sa.Date(), nullable=True), index=True)


def downgrade() -> None:
    refuse_downgrade()
