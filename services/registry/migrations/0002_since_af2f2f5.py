"""What changed in the registry schema between af2f2f5 and the first version with migrations.

- `auth_token` (every service's copy of the API tokens) and `audit_log` (who did what);
- `registry_held_version`, versions held for the office to confirm or discard;
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
    if not inspector.has_table("registry_held_version"):
        op.create_table(
            "registry_held_version",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("doc_no", sa.String(length=200), nullable=False),
            sa.Column("version", sa.Integer(), nullable=False),
            sa.Column("based_on", sa.Integer(), nullable=False),
            sa.Column("notice_id", sa.String(length=32), nullable=False),
            sa.Column("content_hash", sa.String(length=64), nullable=False),
            sa.Column("task_count", sa.Integer(), nullable=False),
            sa.Column("diff", sa.JSON(), nullable=False),
            sa.Column("event", sa.JSON(), nullable=True),
            sa.Column("status", sa.String(length=12), nullable=False),
            sa.Column("received_at", sa.DateTime(), nullable=False),
            sa.Column("decided_by", sa.String(length=100), nullable=True),
            sa.Column("decided_at", sa.DateTime(), nullable=True),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("doc_no", "version"),
        )
        op.create_index(op.f("ix_registry_held_version_doc_no"), "registry_held_version", ["doc_no"], unique=False)
        op.create_index(op.f("ix_registry_held_version_status"), "registry_held_version", ["status"], unique=False)
    timestamps_as_modelled(COMMON_WITHOUT_ZONE + _WITHOUT_ZONE, COMMON_WITH_ZONE)


# (table, column) of this service's own: UTC without a zone, as `UtcDateTime` writes it.
_WITHOUT_ZONE = [
    ("registry_audit", "at"),
    ("registry_link", "created_at"),
    ("registry_link", "decided_at"),
    ("registry_notice", "received_at"),
    ("registry_notice_version", "received_at"),
    ("registry_task", "updated_at"),
    ("registry_unit", "created_at"),
    ("registry_held_version", "received_at"),
    ("registry_held_version", "decided_at"),
]


def downgrade() -> None:
    refuse_downgrade()
