"""`registry_task.word_targets`: targets a notice writes as words (创千亿, 翻一番, 全覆盖) with the
value each implies, kept apart from the figures. '[]' on the rows already there; a task gets its
own when its notice is parsed again.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 08:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from services.common.migration_steps import add_column_if_missing, refuse_downgrade

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_column_if_missing("registry_task", sa.Column("word_targets", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    refuse_downgrade()
