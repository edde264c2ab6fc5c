"""`progress_task.word_targets`: targets a notice writes as words (创千亿, 翻一番, 全覆盖) with the
value each implies, kept apart from the figures. '[]' on the rows already there; a task gets its
own when its notice is parsed again.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 08:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from services.common.migration_steps import has_column, refuse_downgrade

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A database made by `create_all` of this version already has it (it is adopted at 0001).
    if has_column(sa.inspect(op.get_bind()), "progress_task", "word_targets"):
        return
    with op.batch_alter_table("progress_task", schema=None) as batch_op:
        batch_op.add_column(sa.Column("word_targets", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    refuse_downgrade()
