"""verify_chain's fast path: raw columns, keyset batches, a reused encoder, timestamps as text.

The hash format must stay byte-for-byte what it always was, or existing chains stop verifying.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import column, insert, select, table

from app.core.audit import (
    GENESIS_HASH,
    AuditAction,
    AuditEvent,
    acting_as,
    event_hash,
    record_event,
    verify_chain,
)
from tests.conftest import is_postgres


def reference_hash(row: dict) -> str:
    """event_hash as first written: json.dumps with strftime, the format chains are stored in."""
    content = json.dumps(
        [
            row["id"],
            row["occurred_at"].strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            row["actor"],
            row["actor_user_id"],
            str(row["action"]),
            row["record_type"],
            row["record_id"],
            row["changes"],
            row["reason"],
            row["request_id"],
            row["remote_addr"],
            row["prev_hash"],
        ],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(content.encode()).hexdigest()


AWKWARD_ROW = {
    "id": 1,
    "occurred_at": datetime(2026, 11, 24, 9, 8, 7, 654321, tzinfo=UTC),
    "actor": 'Zoë "Q" O\'Brien <zoe@example.com>',
    "actor_user_id": 42,
    "action": AuditAction.UPDATE,
    "record_type": "customer",
    "record_id": "17",
    "changes": '{"name":["Müller\\n","Müller ☃ \\u2028"]}',
    "reason": "Tippfehler:\tkorrigiert \u2028 \x00",
    "request_id": "abc",
    "remote_addr": "10.0.0.1",
    "prev_hash": GENESIS_HASH,
}


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"occurred_at": datetime(2026, 1, 1, tzinfo=UTC), "actor_user_id": None, "changes": None},
        {"reason": None, "request_id": None, "remote_addr": None, "record_id": None},
        {"occurred_at": datetime(999, 1, 1, tzinfo=UTC)},
        {"occurred_at": datetime(2026, 1, 1, 1, tzinfo=timezone(timedelta(hours=2)))},
    ],
)
def test_event_hash_is_byte_for_byte_the_original_format(changes):
    row = {**AWKWARD_ROW, **changes}
    assert event_hash(row) == reference_hash(row)


def test_event_hash_of_a_known_event_never_changes():
    assert event_hash(AWKWARD_ROW) == (
        "5e60a35d344dc69faaac15eee9b4fa0976f0901b0b2e90309981b6342e33fdce"
    )


def head(connection) -> tuple[int, str]:
    found = connection.execute(
        select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    return (found[0], found[1]) if found else (0, GENESIS_HASH)


def crafted_row(event_id: int, prev_hash: str, **overrides) -> dict:
    row = {
        "id": event_id,
        "occurred_at": datetime(2026, 11, 24, 12, 0, 0, 123456, tzinfo=UTC),
        "actor": "system:test",
        "actor_user_id": None,
        "action": AuditAction.EXPORT,
        "record_type": "report",
        "record_id": str(event_id),
        "changes": None,
        "reason": None,
        "request_id": None,
        "remote_addr": None,
        "prev_hash": prev_hash,
    }
    row["hash"] = event_hash(row)
    row.update(overrides)
    return row


def write_events(session, count: int) -> None:
    with acting_as("system:test"):
        for n in range(count):
            record_event(session, AuditAction.EXPORT, "report", n, {"rows": n, "name": "Bericht ü"})
    session.flush()


def test_a_chain_longer_than_one_batch_verifies(session):
    write_events(session, 7)
    connection = session.connection()
    head_id, head_hash = head(connection)
    for batch_size in (1, 2, 3, head_id, head_id + 1):
        result = verify_chain(connection, batch_size=batch_size)
        assert result.ok, result.summary()
        assert (result.count, result.head_hash) == (head_id, head_hash)


@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        ("content", "its content does not match its hash"),
        ("link", "its previous-hash link does not match"),
        ("gap", "events are missing before this one"),
    ],
)
def test_a_bad_event_in_a_later_batch_is_named(session, tamper, problem):
    write_events(session, 5)
    connection = session.connection()
    head_id, head_hash = head(connection)
    bad_id = head_id + 1
    if tamper == "content":
        row = crafted_row(bad_id, head_hash, actor="someone:else")
    elif tamper == "link":
        row = crafted_row(bad_id, "f" * 64)
    else:
        bad_id = head_id + 2
        row = crafted_row(bad_id, head_hash)
    connection.execute(insert(AuditEvent), [row])
    assert bad_id > 2  # past the first batch of 2
    result = verify_chain(connection, batch_size=2)
    assert not result.ok
    assert result.broken_event_id == bad_id
    assert problem in (result.problem or "")
    assert (result.count, result.head_hash) == (head_id, head_hash)


@pytest.mark.skipif(is_postgres(), reason="SQLite keeps timestamps as text; PostgreSQL does not")
def test_a_sqlite_timestamp_in_another_text_format_is_read_as_the_orm_reads_it(session):
    connection = session.connection()
    head_id, head_hash = head(connection)
    row = crafted_row(head_id + 1, head_hash, occurred_at=None)
    row["occurred_at"] = datetime(2026, 1, 5, 7, 30, tzinfo=UTC)
    row["hash"] = event_hash({**row, "action": AuditAction.EXPORT})
    # Written without microseconds, as a tool other than SQLAlchemy might write it.
    raw = table("audit_event", *(column(key) for key in row))
    connection.execute(
        insert(raw), [{**row, "occurred_at": "2026-01-05 07:30:00", "action": "export"}]
    )
    stored = connection.execute(select(AuditEvent.occurred_at).where(AuditEvent.id == row["id"]))
    assert stored.scalar_one() == row["occurred_at"]
    result = verify_chain(connection, batch_size=2)
    assert result.ok, result.summary()
    assert result.count == head_id + 1
