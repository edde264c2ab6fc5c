"""Delivery (issue 15): subscriptions, deliveries and their tries, the live feed, the directory's contacts.

Five new tables; each is created only when missing, since a database `create_all` made is
stamped at 0001 and may already hold them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from services.common.migration_steps import refuse_downgrade

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    if not inspector.has_table("notify_contact"):
        op.create_table(
            "notify_contact",
            sa.Column("owner_kind", sa.String(length=20), nullable=False),
            sa.Column("owner_id", sa.String(length=64), nullable=False),
            sa.Column("name", sa.String(length=200), nullable=False),
            sa.Column("robot_channel", sa.String(length=20), nullable=False),
            sa.Column("robot_url", sa.String(length=500), nullable=False),
            sa.Column("robot_secret", sa.String(length=200), nullable=False),
            sa.Column("email", sa.String(length=200), nullable=False),
            sa.Column("removed", sa.Boolean(), nullable=False),
            sa.Column("updated_at", sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint("owner_kind", "owner_id"),
        )
    if not inspector.has_table("notify_delivery"):
        op.create_table(
            "notify_delivery",
            sa.Column("delivery_id", sa.String(length=32), nullable=False),
            sa.Column("step_id", sa.String(length=100), nullable=False),
            sa.Column("subscription_id", sa.String(length=32), nullable=False),
            sa.Column("escalation_id", sa.String(length=64), nullable=False),
            sa.Column("task_id", sa.String(length=64), nullable=False),
            sa.Column("channel", sa.String(length=20), nullable=False),
            sa.Column("recipient", sa.String(length=64), nullable=False),
            sa.Column("copy_only", sa.Boolean(), nullable=False),
            sa.Column("level", sa.String(length=20), nullable=False),
            sa.Column("rule", sa.String(length=40), nullable=False),
            sa.Column("doc_no", sa.String(length=200), nullable=False),
            sa.Column("title", sa.String(length=300), nullable=False),
            sa.Column("message", sa.String(), nullable=False),
            sa.Column("link", sa.String(length=500), nullable=False),
            sa.Column("state", sa.String(length=20), nullable=False),
            sa.Column("attempts", sa.Integer(), nullable=False),
            sa.Column("next_at", sa.DateTime(), nullable=False),
            sa.Column("last_error", sa.String(length=500), nullable=False),
            sa.Column("created_at", sa.DateTime(), nullable=False),
            sa.Column("sent_at", sa.DateTime(), nullable=True),
            sa.PrimaryKeyConstraint("delivery_id"),
            sa.UniqueConstraint("step_id", "subscription_id", name="uq_notify_delivery_step_subscription"),
        )
        with op.batch_alter_table("notify_delivery", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_notify_delivery_created_at"), ["created_at"], unique=False)
            batch_op.create_index("ix_notify_delivery_due", ["state", "next_at"], unique=False)
            batch_op.create_index(batch_op.f("ix_notify_delivery_recipient"), ["recipient"], unique=False)
            batch_op.create_index(batch_op.f("ix_notify_delivery_subscription_id"), ["subscription_id"], unique=False)
            batch_op.create_index(batch_op.f("ix_notify_delivery_task_id"), ["task_id"], unique=False)
    if not inspector.has_table("notify_delivery_attempt"):
        op.create_table(
            "notify_delivery_attempt",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("delivery_id", sa.String(length=32), nullable=False),
            sa.Column("task_id", sa.String(length=64), nullable=False),
            sa.Column("at", sa.DateTime(), nullable=False),
            sa.Column("outcome", sa.String(length=20), nullable=False),
            sa.Column("status", sa.Integer(), nullable=False),
            sa.Column("answer", sa.String(length=500), nullable=False),
            sa.Column("batch", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        with op.batch_alter_table("notify_delivery_attempt", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_notify_delivery_attempt_delivery_id"), ["delivery_id"], unique=False)
            batch_op.create_index(batch_op.f("ix_notify_delivery_attempt_task_id"), ["task_id"], unique=False)
    if not inspector.has_table("notify_feed"):
        op.create_table(
            "notify_feed",
            sa.Column("seq", sa.Integer(), nullable=False),
            sa.Column("step_id", sa.String(length=100), nullable=False),
            sa.Column("audience", sa.String(length=2000), nullable=False),
            sa.Column("level", sa.String(length=20), nullable=False),
            sa.Column("title", sa.String(length=300), nullable=False),
            sa.Column("message", sa.String(), nullable=False),
            sa.Column("link", sa.String(length=500), nullable=False),
            sa.Column("task_id", sa.String(length=64), nullable=False),
            sa.Column("raised_at", sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint("seq"),
        )
        with op.batch_alter_table("notify_feed", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_notify_feed_step_id"), ["step_id"], unique=False)
    if not inspector.has_table("notify_subscription"):
        op.create_table(
            "notify_subscription",
            sa.Column("subscription_id", sa.String(length=32), nullable=False),
            sa.Column("name", sa.String(length=200), nullable=False),
            sa.Column("channel", sa.String(length=20), nullable=False),
            sa.Column("target", sa.String(length=500), nullable=False),
            sa.Column("secret", sa.String(length=200), nullable=False),
            sa.Column("owner_kind", sa.String(length=20), nullable=False),
            sa.Column("owner_id", sa.String(length=64), nullable=False),
            sa.Column("filters", sa.JSON(), nullable=False),
            sa.Column("quiet_hours", sa.String(length=11), nullable=False),
            sa.Column("digest_minutes", sa.Integer(), nullable=False),
            sa.Column("state", sa.String(length=20), nullable=False),
            sa.Column("broken_reason", sa.String(length=500), nullable=False),
            sa.Column("source", sa.String(length=20), nullable=False),
            sa.Column("created_at", sa.DateTime(), nullable=False),
            sa.Column("updated_at", sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint("subscription_id"),
        )
        with op.batch_alter_table("notify_subscription", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_notify_subscription_channel"), ["channel"], unique=False)
            batch_op.create_index(batch_op.f("ix_notify_subscription_owner_id"), ["owner_id"], unique=False)
            batch_op.create_index(batch_op.f("ix_notify_subscription_owner_kind"), ["owner_kind"], unique=False)
            batch_op.create_index(batch_op.f("ix_notify_subscription_state"), ["state"], unique=False)


def downgrade() -> None:
    refuse_downgrade()
