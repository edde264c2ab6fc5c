"""What changed in the ingest schema between af2f2f5 and the first version with migrations.

- `auth_token` (every service's copy of the API tokens) and `audit_log` (who did what);
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
    _timestamps_as_modelled()


def _has_column(inspector: sa.Inspector, table: str, column: str) -> bool:
    return any(c["name"] == column for c in inspector.get_columns(table))


# (table, column): UTC without a zone, as `UtcDateTime` writes it.
_WITHOUT_ZONE = [
    ("inbox", "processed_at"),
    ("auth_token", "created_at"),
    ("auth_token", "expires_at"),
    ("auth_token", "revoked_at"),
    ("audit_log", "at"),
    ("ingest_notice", "uploaded_at"),
]
_WITH_ZONE = [("outbox", "created_at"), ("outbox", "published_at")]


def _timestamps_as_modelled() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return  # SQLite keeps no zone either way
    for table, column in _WITHOUT_ZONE:
        if _data_type(bind, table, column) == "timestamp with time zone":
            op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE timestamp USING {column} AT TIME ZONE 'UTC'")
    for table, column in _WITH_ZONE:
        if _data_type(bind, table, column) == "timestamp without time zone":
            op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE timestamptz USING {column} AT TIME ZONE 'UTC'")


def _data_type(bind: sa.Connection, table: str, column: str) -> str | None:
    query = sa.text(
        "SELECT data_type FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = :table AND column_name = :column"
    )
    return bind.execute(query, {"table": table, "column": column}).scalar()


def downgrade() -> None:
    raise NotImplementedError("revisions are not undone: restore the backup taken before the upgrade")
