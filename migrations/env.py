"""Alembic environment: runs on the connection the app's `db` commands hand it."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import DateTime

import app.models  # noqa: F401  (registers every table on the metadata)
from app.core.db import Base, UTCDateTime

config = context.config
target_metadata = Base.metadata


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    # Migrations stay free of app imports: our UTC type is a plain timezone-aware DateTime there.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def compare_type(
    context: Any,
    inspected_column: Any,
    metadata_column: Any,
    inspected_type: Any,
    metadata_type: Any,
) -> bool | None:
    if isinstance(metadata_type, UTCDateTime):
        return not isinstance(inspected_type, DateTime)
    return None


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        raise SystemExit("Run migrations through the app: flask --app wsgi db upgrade")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=compare_type,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
