"""A notice's supervision state (督办中 / 参考 / 已归档) and start date.

Rows already there were all judged before, so they are `supervised`, with no start (as before).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 05:43:02.732178
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from services.common.migration_steps import refuse_downgrade

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A database made by `create_all` of this version already has them (it is adopted at 0001).
    present = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("registry_notice")}
    with op.batch_alter_table("registry_notice", schema=None) as batch_op:
        if "supervision" not in present:
            batch_op.add_column(
                sa.Column("supervision", sa.String(length=12), nullable=False, server_default="supervised")
            )
        if "supervision_start" not in present:
            batch_op.add_column(sa.Column("supervision_start", sa.Date(), nullable=True))


def downgrade() -> None:
    refuse_downgrade()
