"""A task's milestones: the dated steps of a task due in stages (issue 18).

Rows already there were parsed before milestones were read: they get none (`[]`).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 07:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from services.common.migration_steps import refuse_downgrade

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A database made by `create_all` of this version already has it (it is adopted at 0001).
    present = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("registry_task")}
    if "milestones" not in present:
        with op.batch_alter_table("registry_task", schema=None) as batch_op:
            batch_op.add_column(sa.Column("milestones", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    refuse_downgrade()
