"""What changed in the notify schema between af2f2f5 and the first version with migrations.

- `auth_token` (every service's copy of the API tokens) and `audit_log` (who did what);
- `notify_escalation.unit_id` (the unit's id, indexed; '' on older rows) and
  `acknowledged_by` widened from 100 to 300 characters;
- on PostgreSQL, every timestamp column as the models now have it, the instants kept: the
  outbox's `timestamp with time zone` (SQLModel's type for a plain `datetime` field), all others
  `timestamp` holding UTC (`UtcDateTime`). A database made by `create_all` has either kind,
  depending on the SQLModel version installed when it was made.

Each step checks what is there first: a database that `create_all` made between af2f2f5 and
this revision already has some of it, and is stamped at 0001 like an older one.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from services.common.migration_steps import (
    COMMON_WITH_ZONE,
    COMMON_WITHOUT_ZONE,
    create_tokens_and_audit,
    has_column,
    refuse_downgrade,
    timestamps_as_modelled,
)

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    create_tokens_and_audit(inspector)
    if not has_column(inspector, "notify_escalation", "unit_id"):
        with op.batch_alter_table("notify_escalation") as batch:
            batch.add_column(sa.Column("unit_id", sa.String(length=64), nullable=False, server_default=""))
        op.create_index(op.f("ix_notify_escalation_unit_id"), "notify_escalation", ["unit_id"], unique=False)
    with op.batch_alter_table("notify_escalation") as batch:
        batch.alter_column("acknowledged_by", existing_type=sa.String(length=100), type_=sa.String(length=300))
    timestamps_as_modelled(COMMON_WITHOUT_ZONE + _WITHOUT_ZONE, COMMON_WITH_ZONE)


# (table, column) of this service's own: UTC without a zone, as `UtcDateTime` writes it.
_WITHOUT_ZONE = [
    ("notify_escalation", "raised_at"),
    ("notify_escalation", "acknowledged_at"),
]


def downgrade() -> None:
    refuse_downgrade()
