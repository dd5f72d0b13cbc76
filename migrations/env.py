"""Alembic environment: runs on the connection the app's `db` commands hand it."""

from __future__ import annotations

from alembic import context

import app.models  # noqa: F401  (registers every table on the metadata)
from app.core.db import Base
from app.core.migration_support import compare_type, include_name, render_item

config = context.config


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        raise SystemExit("Run migrations through the app: flask --app wsgi db upgrade")
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,
        compare_type=compare_type,
        render_item=render_item,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
