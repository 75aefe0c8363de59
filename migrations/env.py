"""Alembic environment: runs on the connection `app.migrate` hands over."""

from alembic import context

from app.models import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise SystemExit("Run migrations through `flask db upgrade` (see app/migrate.py).")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
