"""Hooks that Alembic's autogenerate uses, shared by migrations/env.py and the schema tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import DateTime

from app.core.db import UTCDateTime


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


# Tables the migrations keep outside the models' metadata because each database holds them its
# own way (full-text search: an FTS5 virtual table and its shadow tables on SQLite, a table with a
# generated tsvector on PostgreSQL); the comparison of models and migrations leaves them out.
UNMANAGED_TABLE_PREFIXES = ("document_search", "complaint_search")


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    if type_ == "table" and name is not None:
        return not name.startswith(UNMANAGED_TABLE_PREFIXES)
    return True
