"""What changed in the progress schema between af2f2f5 and the first version with migrations.

- `auth_token` (every service's copy of the API tokens) and `audit_log` (who did what);
- `progress_report.token_id` (the token that made the report; '' on older rows); the old
  `progress_token` table is dropped: tokens issued before are not carried over (README, "Who may do
  what"), since the other services never learnt them;
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
    if not has_column(inspector, "progress_report", "token_id"):
        with op.batch_alter_table("progress_report") as batch:
            batch.add_column(sa.Column("token_id", sa.String(length=16), nullable=False, server_default=""))
    if inspector.has_table("progress_token"):
        op.drop_table("progress_token")
    timestamps_as_modelled(COMMON_WITHOUT_ZONE + _WITHOUT_ZONE, COMMON_WITH_ZONE)


# (table, column) of this service's own: UTC without a zone, as `UtcDateTime` writes it.
_WITHOUT_ZONE = [
    ("progress_closeout", "requested_at"),
    ("progress_closeout", "decided_at"),
    ("progress_extension", "requested_at"),
    ("progress_extension", "decided_at"),
    ("progress_receipt", "acknowledged_at"),
    ("progress_report", "received_at"),
    ("progress_task", "last_report_at"),
    ("progress_unit_latest", "received_at"),
]


def downgrade() -> None:
    refuse_downgrade()
