"""The ingest schema as of commit af2f2f5, the last version without migrations.

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
        "ingest_notice",
        sa.Column("notice_id", sa.String(length=32), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=500), nullable=False),
        sa.Column("doc_no", sa.String(length=200), nullable=True),
        sa.Column("task_count", sa.Integer(), nullable=False),
        sa.Column("parse_json", sa.String(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("notice_id"),
    )
    op.create_index(op.f("ix_ingest_notice_doc_no"), "ingest_notice", ["doc_no"], unique=False)
    op.create_index(op.f("ix_ingest_notice_sha256"), "ingest_notice", ["sha256"], unique=True)


def downgrade() -> None:
    raise NotImplementedError("the first revision is not undone: drop the database instead")
