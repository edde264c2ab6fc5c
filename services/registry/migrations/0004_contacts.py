"""Contact fields of units and posts (issue 15): a group robot (kind, URL, 加签 secret) and an e-mail address.

Each column is added only when missing: a database `create_all` made is stamped at 0001 and may
already have them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from services.common.migration_steps import has_column, refuse_downgrade

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (("robot_channel", 20), ("robot_url", 500), ("robot_secret", 200), ("email", 200))


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    for table in ("registry_unit", "registry_post"):
        missing = [(name, size) for name, size in COLUMNS if not has_column(inspector, table, name)]
        if not missing:
            continue
        with op.batch_alter_table(table) as batch:
            for name, size in missing:
                batch.add_column(sa.Column(name, sa.String(length=size), nullable=False, server_default=""))


def downgrade() -> None:
    refuse_downgrade()
