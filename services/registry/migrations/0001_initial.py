"""The registry schema as of commit af2f2f5, the last version without migrations.

Timestamps were plain (naive) `DateTime` then. A database made by that version's `create_all`
has exactly this and no version table; it is stamped at this revision when it is first migrated.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from services.common.migration_steps import create_inbox_and_outbox

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_inbox_and_outbox()
    op.create_table(
        "registry_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_registry_audit_task_id"), "registry_audit", ["task_id"], unique=False)
    op.create_table(
        "registry_group_member",
        sa.Column("group_id", sa.String(length=32), nullable=False),
        sa.Column("member_id", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("group_id", "member_id"),
    )
    op.create_index(op.f("ix_registry_group_member_member_id"), "registry_group_member", ["member_id"], unique=False)
    op.create_table(
        "registry_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("source_task_id", sa.String(length=64), nullable=False),
        sa.Column("target_task_id", sa.String(length=64), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "source_task_id", "target_task_id"),
    )
    op.create_index(op.f("ix_registry_link_kind"), "registry_link", ["kind"], unique=False)
    op.create_index(op.f("ix_registry_link_source_task_id"), "registry_link", ["source_task_id"], unique=False)
    op.create_index(op.f("ix_registry_link_status"), "registry_link", ["status"], unique=False)
    op.create_index(op.f("ix_registry_link_target_task_id"), "registry_link", ["target_task_id"], unique=False)
    op.create_table(
        "registry_notice",
        sa.Column("doc_no", sa.String(length=200), nullable=False),
        sa.Column("notice_id", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(), nullable=True),
        sa.Column("issuer", sa.String(), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("issued_date", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("doc_no"),
    )
    op.create_index(op.f("ix_registry_notice_notice_id"), "registry_notice", ["notice_id"], unique=False)
    op.create_table(
        "registry_notice_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("doc_no", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.String(length=32), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("task_count", sa.Integer(), nullable=False),
        sa.Column("diff", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("doc_no", "version"),
    )
    op.create_index(op.f("ix_registry_notice_version_doc_no"), "registry_notice_version", ["doc_no"], unique=False)
    op.create_index(
        op.f("ix_registry_notice_version_notice_id"), "registry_notice_version", ["notice_id"], unique=False
    )
    op.create_table(
        "registry_post",
        sa.Column("post_id", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("unit_id", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("post_id"),
    )
    op.create_index(op.f("ix_registry_post_title"), "registry_post", ["title"], unique=False)
    op.create_table(
        "registry_post_holder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("since", sa.Date(), nullable=True),
        sa.Column("until", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_registry_post_holder_name"), "registry_post_holder", ["name"], unique=False)
    op.create_index(op.f("ix_registry_post_holder_post_id"), "registry_post_holder", ["post_id"], unique=False)
    op.create_table(
        "registry_task",
        sa.Column("task_id", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("notice_id", sa.String(length=32), nullable=False),
        sa.Column("doc_no", sa.String(length=200), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("chapter", sa.String(length=10), nullable=True),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("leaders", sa.JSON(), nullable=False),
        sa.Column("host_units", sa.JSON(), nullable=False),
        sa.Column("co_units", sa.JSON(), nullable=False),
        sa.Column("quantities", sa.JSON(), nullable=False),
        sa.Column("deadline_phrase", sa.String(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("issued_date", sa.Date(), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("parsed", sa.JSON(), nullable=False),
        sa.Column("corrections", sa.JSON(), nullable=False),
        sa.Column("removed", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("task_id"),
    )
    op.create_index(op.f("ix_registry_task_chapter"), "registry_task", ["chapter"], unique=False)
    op.create_index(op.f("ix_registry_task_due_date"), "registry_task", ["due_date"], unique=False)
    op.create_index(op.f("ix_registry_task_key"), "registry_task", ["key"], unique=False)
    op.create_index(op.f("ix_registry_task_notice_id"), "registry_task", ["notice_id"], unique=False)
    op.create_index("ix_registry_task_order", "registry_task", ["doc_no", "number", "removed", "task_id"], unique=False)
    op.create_index("ix_registry_task_page", "registry_task", ["task_id", "removed", "doc_no", "number"], unique=False)
    _full_text()
    op.create_table(
        "registry_unit",
        sa.Column("unit_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("parent_id", sa.String(length=32), nullable=True),
        sa.Column("provisional", sa.Boolean(), nullable=False),
        sa.Column("is_group", sa.Boolean(), nullable=False),
        sa.Column("member_kinds", sa.JSON(), nullable=False),
        sa.Column("member_parent_id", sa.String(length=32), nullable=True),
        sa.Column("merged_into", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("unit_id"),
    )
    op.create_index(op.f("ix_registry_unit_merged_into"), "registry_unit", ["merged_into"], unique=False)
    op.create_index(op.f("ix_registry_unit_name"), "registry_unit", ["name"], unique=False)
    op.create_index(op.f("ix_registry_unit_provisional"), "registry_unit", ["provisional"], unique=False)
    op.create_table(
        "registry_unit_alias",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("alias", sa.String(length=200), nullable=False),
        sa.Column("unit_id", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index(op.f("ix_registry_unit_alias_unit_id"), "registry_unit_alias", ["unit_id"], unique=False)
    op.create_table(
        "registry_assignment",
        sa.Column("task_id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=4), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("unit_id", sa.String(length=32), nullable=False),
        sa.Column("doc_no", sa.String(length=200), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["registry_task.task_id"],
        ),
        sa.PrimaryKeyConstraint("task_id", "role", "position"),
    )
    op.create_index(
        "ix_registry_assignment_unit_order",
        "registry_assignment",
        ["unit_id", "doc_no", "number", "task_id", "role"],
        unique=False,
    )
    op.create_table(
        "registry_task_leader",
        sa.Column("task_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["registry_task.task_id"],
        ),
        sa.PrimaryKeyConstraint("task_id", "position"),
    )
    op.create_index("ix_registry_task_leader_name", "registry_task_leader", ["name", "task_id"], unique=False)


# Full-text search beside the task table (see services/registry/search.py). SQLite: an
# external-content FTS5 table with the trigram tokenizer, kept in step by triggers. PostgreSQL:
# a pg_trgm GIN index, which serves `ILIKE '%…%'` for queries of three characters or more.
_SQLITE_FTS = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS registry_task_fts USING fts5("
    "text, content='registry_task', content_rowid='rowid', tokenize='trigram')",
    "CREATE TRIGGER IF NOT EXISTS registry_task_fts_ai AFTER INSERT ON registry_task BEGIN "
    "INSERT INTO registry_task_fts(rowid, text) VALUES (new.rowid, new.text); END",
    "CREATE TRIGGER IF NOT EXISTS registry_task_fts_ad AFTER DELETE ON registry_task BEGIN "
    "INSERT INTO registry_task_fts(registry_task_fts, rowid, text) VALUES ('delete', old.rowid, old.text); END",
    "CREATE TRIGGER IF NOT EXISTS registry_task_fts_au AFTER UPDATE OF text ON registry_task BEGIN "
    "INSERT INTO registry_task_fts(registry_task_fts, rowid, text) VALUES ('delete', old.rowid, old.text); "
    "INSERT INTO registry_task_fts(rowid, text) VALUES (new.rowid, new.text); END",
]
_POSTGRES_TRGM = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS ix_registry_task_text_trgm ON registry_task USING gin (text gin_trgm_ops)",
]


def _full_text() -> None:
    dialect = op.get_bind().dialect.name
    for statement in _SQLITE_FTS if dialect == "sqlite" else _POSTGRES_TRGM if dialect == "postgresql" else []:
        op.execute(statement)


def downgrade() -> None:
    raise NotImplementedError("the first revision is not undone: drop the database instead")
