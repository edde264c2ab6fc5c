"""The supervision ladder: chased tasks, receipts, history, silences; escalations keep their rule, step and state.

Escalations raised before keep their level and are `open` with the rule `red`, addressed to the
unit they named (`parties`); nothing steps them further (they have no `next_on`). Each table and
column is created only when missing: a database `create_all` made of this version is adopted at
0001 and already has them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 06:53:44.213763
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from services.common.migration_steps import refuse_downgrade

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    tables = set(sa.inspect(op.get_bind()).get_table_names())
    if "notify_history" not in tables:
        op.create_table(
            "notify_history",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("task_id", sa.String(length=64), nullable=False),
            sa.Column("escalation_id", sa.String(length=32), nullable=False),
            sa.Column("on", sa.Date(), nullable=False),
            sa.Column("at", sa.DateTime(), nullable=False),
            sa.Column("kind", sa.String(length=20), nullable=False),
            sa.Column("level", sa.String(length=20), nullable=False),
            sa.Column("rule", sa.String(length=30), nullable=False),
            sa.Column("step", sa.Integer(), nullable=False),
            sa.Column("actor", sa.String(length=300), nullable=False),
            sa.Column("note", sa.String(), nullable=False),
            sa.Column("parties", sa.String(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        with op.batch_alter_table("notify_history", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_notify_history_escalation_id"), ["escalation_id"], unique=False)
            batch_op.create_index(batch_op.f("ix_notify_history_on"), ["on"], unique=False)
            batch_op.create_index(batch_op.f("ix_notify_history_task_id"), ["task_id"], unique=False)

    if "notify_receipt" not in tables:
        op.create_table(
            "notify_receipt",
            sa.Column("task_id", sa.String(length=64), nullable=False),
            sa.Column("unit_id", sa.String(length=64), nullable=False),
            sa.Column("assigned_on", sa.Date(), nullable=False),
            sa.Column("chase_on", sa.Date(), nullable=False),
            sa.Column("signed", sa.Boolean(), nullable=False),
            sa.Column("chased", sa.Boolean(), nullable=False),
            sa.PrimaryKeyConstraint("task_id", "unit_id"),
        )
        with op.batch_alter_table("notify_receipt", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_notify_receipt_chase_on"), ["chase_on"], unique=False)
            batch_op.create_index(batch_op.f("ix_notify_receipt_signed"), ["signed"], unique=False)

    if "notify_silence" not in tables:
        op.create_table(
            "notify_silence",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("scope", sa.String(length=10), nullable=False),
            sa.Column("target", sa.String(length=64), nullable=False),
            sa.Column("starts_on", sa.Date(), nullable=False),
            sa.Column("until", sa.Date(), nullable=False),
            sa.Column("reason", sa.String(), nullable=False),
            sa.Column("created_by", sa.String(length=300), nullable=False),
            sa.Column("created_at", sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        with op.batch_alter_table("notify_silence", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_notify_silence_target"), ["target"], unique=False)
            batch_op.create_index(batch_op.f("ix_notify_silence_until"), ["until"], unique=False)

    if "notify_task" not in tables:
        op.create_table(
            "notify_task",
            sa.Column("task_id", sa.String(length=64), nullable=False),
            sa.Column("doc_no", sa.String(length=200), nullable=False),
            sa.Column("number", sa.Integer(), nullable=False),
            sa.Column("text", sa.String(), nullable=False),
            sa.Column("supervision", sa.String(length=20), nullable=False),
            sa.Column("supervision_start", sa.Date(), nullable=True),
            sa.Column("due_date", sa.Date(), nullable=True),
            sa.Column("removed", sa.Boolean(), nullable=False),
            sa.Column("closed", sa.Boolean(), nullable=False),
            sa.Column("units", sa.JSON(), nullable=False),
            sa.Column("leaders", sa.JSON(), nullable=False),
            sa.Column("flag", sa.String(length=10), nullable=False),
            sa.Column("rule", sa.String(length=30), nullable=False),
            sa.Column("reason", sa.String(), nullable=False),
            sa.Column("percent", sa.Float(), nullable=False),
            sa.Column("expected_percent", sa.Float(), nullable=False),
            sa.Column("period_kind", sa.String(length=10), nullable=False),
            sa.Column("reported_through", sa.Date(), nullable=True),
            sa.Column("first_seen", sa.Date(), nullable=True),
            sa.Column("due_advance_on", sa.Date(), nullable=True),
            sa.Column("report_check_on", sa.Date(), nullable=True),
            sa.PrimaryKeyConstraint("task_id"),
        )
        with op.batch_alter_table("notify_task", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_notify_task_due_advance_on"), ["due_advance_on"], unique=False)
            batch_op.create_index(batch_op.f("ix_notify_task_report_check_on"), ["report_check_on"], unique=False)

    _escalation_columns()


def _escalation_columns() -> None:
    present = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("notify_escalation")}
    wanted = [
        sa.Column("rule", sa.String(length=30), nullable=False, server_default="red"),
        sa.Column("cause_key", sa.String(length=64), nullable=False, server_default=""),
        sa.Column("step", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("state", sa.String(length=10), nullable=False, server_default="open"),
        sa.Column("title", sa.String(length=300), nullable=False, server_default=""),
        sa.Column("doc_no", sa.String(length=200), nullable=False, server_default=""),
        sa.Column("opened_on", sa.Date(), nullable=True),
        sa.Column("raised_on", sa.Date(), nullable=True),
        sa.Column("next_on", sa.Date(), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("closed_reason", sa.String(length=200), nullable=False, server_default=""),
        sa.Column("ack_comment", sa.String(), nullable=False, server_default=""),
        sa.Column("parties", sa.String(), nullable=False, server_default=""),
        sa.Column("recipients", sa.JSON(), nullable=False, server_default="[]"),
    ]
    missing = [c for c in wanted if c.name not in present]
    if not missing:
        return
    with op.batch_alter_table("notify_escalation", schema=None) as batch_op:
        for column in missing:
            batch_op.add_column(column)
        for name in ("next_on", "rule", "state"):
            if name in {c.name for c in missing}:
                batch_op.create_index(batch_op.f(f"ix_notify_escalation_{name}"), [name], unique=False)
    op.execute("UPDATE notify_escalation SET parties = ' ' || unit_id || ' ' WHERE unit_id <> '' AND parties = ''")


def downgrade() -> None:
    refuse_downgrade()
