"""The one migration environment of every service; `services.common.migrations` hands it the connection."""

from alembic import context

from services.common.migrations import include_object, render_item

config = context.config
context.configure(
    connection=config.attributes["connection"],
    target_metadata=config.attributes["metadata"],
    version_table=config.attributes["version_table"],
    # SQLite alters a table by copying it; batch mode does that for every ALTER a revision needs.
    render_as_batch=True,
    compare_type=True,
    include_object=include_object,
    render_item=render_item,
)
with context.begin_transaction():
    context.run_migrations()
