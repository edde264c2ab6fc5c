"""What changed in the ingest schema between af2f2f5 and the first version with migrations.

- `auth_token` (every service's copy of the API tokens) and `audit_log` (who did what);
- the outbox's timestamps become `timestamp with time zone` on PostgreSQL, as SQLModel now makes
  a plain `datetime` field; the instants are kept (the naive values were UTC).

Each step checks what is there first: a database that `create_all` made between af2f2f5 and
this revision already has some of it, and is stamped at 0001 like an older one.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    if not inspector.has_table("auth_token"):
        op.create_table(
            "auth_token",
            sa.Column("token_id", sa.String(length=16), nullable=False),
            sa.Column("token_hash", sa.String(length=64), nullable=False),
            sa.Column("role", sa.String(length=20), nullable=False),
            sa.Column("unit_id", sa.String(length=64), nullable=True),
            sa.Column("post_id", sa.String(length=64), nullable=True),
            sa.Column("label", sa.String(length=200), nullable=False),
            sa.Column("created_at", sa.DateTime(), nullable=False),
            sa.Column("expires_at", sa.DateTime(), nullable=True),
            sa.Column("revoked_at", sa.DateTime(), nullable=True),
            sa.PrimaryKeyConstraint("token_id"),
            sa.UniqueConstraint("token_hash"),
        )
        op.create_index(op.f("ix_auth_token_unit_id"), "auth_token", ["unit_id"], unique=False)
    if not inspector.has_table("audit_log"):
        op.create_table(
            "audit_log",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("at", sa.DateTime(), nullable=False),
            sa.Column("actor", sa.String(length=120), nullable=False),
            sa.Column("role", sa.String(length=20), nullable=False),
            sa.Column("token_id", sa.String(length=16), nullable=False),
            sa.Column("action", sa.String(length=60), nullable=False),
            sa.Column("target", sa.String(length=250), nullable=False),
            sa.Column("before", sa.JSON(), nullable=True),
            sa.Column("request", sa.JSON(), nullable=True),
            sa.PrimaryKeyConstraint("id"),
        )
        for column in ("action", "actor", "at", "target"):
            op.create_index(op.f(f"ix_audit_log_{column}"), "audit_log", [column], unique=False)
    _outbox_times_with_zone()


def _has_column(inspector: sa.Inspector, table: str, column: str) -> bool:
    return any(c["name"] == column for c in inspector.get_columns(table))


def _outbox_times_with_zone() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return  # SQLite keeps no zone either way
    for column in ("created_at", "published_at"):
        naive = bind.execute(
            sa.text(
                "SELECT data_type = 'timestamp without time zone' FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = 'outbox' AND column_name = :column"
            ),
            {"column": column},
        ).scalar()
        if naive:
            op.execute(f"ALTER TABLE outbox ALTER COLUMN {column} TYPE timestamptz USING {column} AT TIME ZONE 'UTC'")


def downgrade() -> None:
    raise NotImplementedError("revisions are not undone: restore the backup taken before the upgrade")
