"""What an attacker with database access does to the trail: go around the append-only triggers
(dropping or disabling them), then edit, delete, insert or rewrite rows, recomputing hashes where
that hides the change from the chain itself."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select, text
from sqlalchemy.engine import Connection

from app.audit.models import AuditCheckpoint
from app.core.audit import GENESIS_HASH, AuditEvent, event_hash

EVENTS = AuditEvent.__table__
CHECKPOINTS = AuditCheckpoint.__table__


def bypass_triggers(connection: Connection, table: str = "audit_event") -> None:
    """Disable (PostgreSQL) or drop (SQLite) the triggers that refuse UPDATE and DELETE."""
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        return
    for suffix in ("no_update", "no_delete"):
        connection.execute(text(f"DROP TRIGGER IF EXISTS {table}_{suffix}"))


def run(connection: Connection, *statements: str) -> None:
    bypass_triggers(connection)
    for statement in statements:
        connection.execute(text(statement))


def events(connection: Connection, from_id: int = 1) -> list[dict[str, Any]]:
    rows = connection.execute(select(EVENTS).where(EVENTS.c.id >= from_id).order_by(EVENTS.c.id))
    return [dict(row._mapping) for row in rows]


def replace_tail(connection: Connection, from_id: int, contents: list[dict[str, Any]]) -> None:
    """Delete events `from_id` onward and write `contents` in their place, renumbered and with
    every hash recomputed: a chain that is internally consistent again."""
    bypass_triggers(connection)
    previous = connection.execute(select(EVENTS.c.hash).where(EVENTS.c.id == from_id - 1)).scalar()
    prev_hash = previous or GENESIS_HASH
    connection.execute(delete(EVENTS).where(EVENTS.c.id >= from_id))
    rows = []
    for offset, content in enumerate(contents):
        row = {**content, "id": from_id + offset, "prev_hash": prev_hash}
        row["hash"] = prev_hash = event_hash(row)
        rows.append(row)
    if rows:
        connection.execute(insert(EVENTS), rows)


def forged_event(like: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**like, "actor": "mallory@example.com", "record_id": "9999", **changes}
