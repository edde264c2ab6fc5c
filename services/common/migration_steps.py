"""Steps every service's revisions share: the tables of `services/common` and the PostgreSQL timestamp fix.

Each service's database holds the same common tables (`inbox`, `outbox`, `auth_token`,
`audit_log`), so their creation is written once here and called from each service's revision.
A step is part of the revisions that call it: never change one once a revision uses it; a later
schema change is a new step (or plain `op` calls) in a new revision.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


def create_inbox_and_outbox() -> None:
    """The common tables as of af2f2f5 (revision 0001 of every service)."""
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.String(length=100), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("processed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id"),
    )
    op.create_table(
        "outbox",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("payload", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("seq"),
    )
    op.create_index(op.f("ix_outbox_event_id"), "outbox", ["event_id"], unique=True)
    op.create_index(op.f("ix_outbox_published_at"), "outbox", ["published_at"], unique=False)


def create_tokens_and_audit(inspector: sa.Inspector) -> None:
    """`auth_token` and `audit_log` (revision 0002 of every service), unless `create_all` made them."""
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


def has_column(inspector: sa.Inspector, table: str, column: str) -> bool:
    return any(c["name"] == column for c in inspector.get_columns(table))


def add_column_if_missing(table: str, column: sa.Column, *, index: bool = False) -> None:
    """Add one column (and its index): a database `create_all` made of a newer version already has
    it, since such a database is adopted at 0001."""
    if has_column(sa.inspect(op.get_bind()), table, column.name):
        return
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.add_column(column)
        if index:
            batch_op.create_index(batch_op.f(f"ix_{table}_{column.name}"), [column.name], unique=False)


# The common tables' timestamp columns: UTC without a zone, as `UtcDateTime` writes it, except the
# outbox's, which SQLModel's own type for a plain `datetime` field makes `timestamptz`.
COMMON_WITHOUT_ZONE = [
    ("inbox", "processed_at"),
    ("auth_token", "created_at"),
    ("auth_token", "expires_at"),
    ("auth_token", "revoked_at"),
    ("audit_log", "at"),
]
COMMON_WITH_ZONE = [("outbox", "created_at"), ("outbox", "published_at")]


def timestamps_as_modelled(without_zone: list[tuple[str, str]], with_zone: list[tuple[str, str]]) -> None:
    """On PostgreSQL, give each listed timestamp column the type the models have, keeping its instants."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return  # SQLite keeps no zone either way
    for table, column in without_zone:
        if _data_type(bind, table, column) == "timestamp with time zone":
            op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE timestamp USING {column} AT TIME ZONE 'UTC'")
    for table, column in with_zone:
        if _data_type(bind, table, column) == "timestamp without time zone":
            op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE timestamptz USING {column} AT TIME ZONE 'UTC'")


def _data_type(bind: sa.Connection, table: str, column: str) -> str | None:
    query = sa.text(
        "SELECT data_type FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = :table AND column_name = :column"
    )
    return bind.execute(query, {"table": table, "column": column}).scalar()


def refuse_downgrade() -> None:
    raise NotImplementedError("revisions are not undone: restore the backup taken before the upgrade")
