"""The tamper-evident audit trail.

Every flush of a model that inherits `Audited` is captured here, from ORM session events, so no view
or service can forget it. Events are append-only (database triggers refuse UPDATE and DELETE) and
hash-chained: each event stores the previous event's hash and the SHA-256 of its own canonical
content, which includes that previous hash. Writers serialise on the chain head (an advisory lock on
PostgreSQL, `BEGIN IMMEDIATE` on SQLite) and `prev_hash` is unique, so the chain can never fork.
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import json
import uuid
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import g, has_request_context, request
from sqlalchemy import Index, Integer, String, Text, event, insert, inspect, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, attributes, mapped_column

from app.core.db import Base, UTCDateTime, enum_type, utcnow

GENESIS_HASH = "0" * 64
# Any fixed 64-bit number: the key of the PostgreSQL advisory lock that guards the chain head.
CHAIN_LOCK_KEY = 7_302_117_034_212
REDACTED = "[redacted]"


class AuditAction(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    TRANSITION = "transition"
    SIGN = "sign"
    EXPORT = "export"
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGOUT = "logout"


class AuditEvent(Base):
    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_record", "record_type", "record_id"),
        Index("ix_audit_event_occurred_at", "occurred_at"),
        Index("ix_audit_event_actor", "actor"),
        Index("ix_audit_event_action", "action"),
    )

    # Assigned under the chain lock (head id + 1), so ids are gapless and covered by the hash.
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    actor: Mapped[str] = mapped_column(String(200), nullable=False)
    actor_user_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[AuditAction] = mapped_column(
        enum_type(AuditAction, "audit_action"), nullable=False
    )
    record_type: Mapped[str] = mapped_column(String(80), nullable=False)
    record_id: Mapped[str | None] = mapped_column(String(80))
    changes: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    request_id: Mapped[str | None] = mapped_column(String(64))
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)

    @property
    def changes_dict(self) -> dict[str, Any]:
        return json.loads(self.changes) if self.changes else {}


class Audited:
    """Mixin: every create, update, delete and transition of this model lands in the audit trail.

    Class attributes a model may set:
    - `__audit_exclude__`: columns left out of diffs (noise such as `updated_at`);
    - `__audit_redact__`: columns whose values are never written (password hashes);
    - `__audit_state_field__`: the workflow state column; a change to it is a `transition`.
    """

    __audit_exclude__: frozenset[str] = frozenset({"updated_at", "version"})
    __audit_redact__: frozenset[str] = frozenset()
    __audit_state_field__: str | None = None


@dataclass(frozen=True)
class AuditContext:
    actor: str
    actor_user_id: int | None = None
    request_id: str | None = None
    remote_addr: str | None = None
    reason: str | None = None


_context: ContextVar[AuditContext | None] = ContextVar("loop_audit_context", default=None)


@contextlib.contextmanager
def acting_as(actor: str, user_id: int | None = None) -> Iterator[AuditContext]:
    """Attribute events written inside the block to `actor` (e.g. `system:recurrence-review`)."""
    context = replace(current_context(), actor=actor, actor_user_id=user_id)
    token = _context.set(context)
    try:
        yield context
    finally:
        _context.reset(token)


@contextlib.contextmanager
def audit_reason(reason: str) -> Iterator[None]:
    """Attach a reason to every event written inside the block."""
    token = _context.set(replace(current_context(), reason=reason))
    try:
        yield
    finally:
        _context.reset(token)


def current_context() -> AuditContext:
    context = _context.get()
    if context is not None:
        return context
    if has_request_context():
        actor = g.get("audit_actor")
        return AuditContext(
            actor=actor[0] if actor else "anonymous",
            actor_user_id=actor[1] if actor else None,
            request_id=g.get("request_id"),
            remote_addr=request.remote_addr,
        )
    return AuditContext(actor="system")


def start_request_context() -> None:
    g.request_id = request.headers.get("X-Request-ID", "")[:64] or uuid.uuid4().hex


# --- serialisation and hashing ---------------------------------------------------------------


def jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    return str(value)


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def format_timestamp(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(row: Mapping[str, Any]) -> str:
    """SHA-256 over the canonical serialisation of an event's content, including `prev_hash`."""
    content = json.dumps(
        [
            row["id"],
            format_timestamp(row["occurred_at"]),
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


# --- writing events ---------------------------------------------------------------------------


@dataclass
class PendingEvent:
    action: AuditAction
    record_type: str
    record_id: str | None
    changes: dict[str, Any] | None
    reason: str | None = None


def append_events(connection: Connection, events: list[PendingEvent]) -> list[dict[str, Any]]:
    """Chain and insert events on `connection`, inside its current transaction."""
    if not events:
        return []
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({CHAIN_LOCK_KEY})")
    head = connection.execute(
        select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    last_id, last_hash = (head[0], head[1]) if head else (0, GENESIS_HASH)
    context = current_context()
    now = utcnow()
    rows = []
    for pending in events:
        last_id += 1
        row = {
            "id": last_id,
            "occurred_at": now,
            "actor": context.actor,
            "actor_user_id": context.actor_user_id,
            "action": pending.action,
            "record_type": pending.record_type,
            "record_id": pending.record_id,
            "changes": canonical_json(pending.changes) if pending.changes is not None else None,
            "reason": pending.reason or context.reason,
            "request_id": context.request_id,
            "remote_addr": context.remote_addr,
            "prev_hash": last_hash,
        }
        row["hash"] = last_hash = event_hash(row)
        rows.append(row)
    connection.execute(insert(AuditEvent), rows)
    return rows


def record_event(
    session: Session,
    action: AuditAction,
    record_type: str,
    record_id: object | None = None,
    changes: dict[str, Any] | None = None,
    reason: str | None = None,
) -> None:
    """Write one explicit event (login, sign, export…) in the session's transaction."""
    pending = PendingEvent(
        action=action,
        record_type=record_type,
        record_id=None if record_id is None else str(record_id),
        changes=jsonable(changes) if changes is not None else None,
        reason=reason,
    )
    append_events(session.connection(), [pending])


def record_type_of(obj: object) -> str:
    return getattr(obj, "__tablename__", type(obj).__name__)


def _identity(obj: object) -> str | None:
    # Read the primary key from the instance: during after_flush a new object's identity key is
    # not assigned yet, but its freshly inserted key columns are.
    state = inspect(obj)
    identity = state.mapper.primary_key_from_instance(obj)
    if not identity or any(part is None for part in identity):
        return None
    return ",".join(str(part) for part in identity)


def _column_snapshot(obj: Audited) -> dict[str, Any]:
    state = inspect(obj)
    snapshot: dict[str, Any] = {}
    for column_attr in state.mapper.column_attrs:
        key = column_attr.key
        if key in obj.__audit_exclude__ or key not in state.dict:
            continue
        value = REDACTED if key in obj.__audit_redact__ else jsonable(state.dict[key])
        if value is not None:
            snapshot[key] = [None, value]
    return snapshot


def _related_ids(items: Any) -> list[str]:
    return sorted(str(_identity(item) or id(item)) for item in items)


def _diff(obj: Audited) -> dict[str, Any]:
    state = inspect(obj)
    changes: dict[str, Any] = {}
    for column_attr in state.mapper.column_attrs:
        key = column_attr.key
        if key in obj.__audit_exclude__:
            continue
        history = attributes.get_history(obj, key, passive=attributes.PASSIVE_NO_INITIALIZE)
        if not history.has_changes():
            continue
        old = history.deleted[0] if history.deleted else None
        new = history.added[0] if history.added else None
        if old == new:
            continue
        if key in obj.__audit_redact__:
            changes[key] = [REDACTED, REDACTED]
        else:
            changes[key] = [jsonable(old), jsonable(new)]
    for relationship in state.mapper.relationships:
        if relationship.secondary is None:
            continue
        history = attributes.get_history(
            obj, relationship.key, passive=attributes.PASSIVE_NO_INITIALIZE
        )
        if not history.has_changes():
            continue
        before = _related_ids([*history.unchanged, *history.deleted])
        after = _related_ids([*history.unchanged, *history.added])
        if before != after:
            changes[relationship.key] = [before, after]
    return changes


_PENDING_KEY = "loop_audit_pending"


@dataclass
class _Captured:
    kind: str
    obj: Audited
    changes: dict[str, Any] | None
    record_id: str | None = None


@event.listens_for(Session, "before_flush")
def _capture_before_flush(session: Session, flush_context: Any, instances: Any) -> None:
    captured: list[_Captured] = session.info.setdefault(_PENDING_KEY, [])
    for obj in session.new:
        if isinstance(obj, Audited):
            captured.append(_Captured("create", obj, None))
    for obj in session.dirty:
        if isinstance(obj, Audited) and session.is_modified(obj):
            changes = _diff(obj)
            if changes:
                captured.append(_Captured("update", obj, changes, _identity(obj)))
    for obj in session.deleted:
        if isinstance(obj, Audited):
            snapshot = {key: [old, None] for key, (_, old) in _column_snapshot(obj).items()}
            captured.append(_Captured("delete", obj, snapshot, _identity(obj)))


@event.listens_for(Session, "after_flush")
def _write_after_flush(session: Session, flush_context: Any) -> None:
    captured: list[_Captured] = session.info.pop(_PENDING_KEY, [])
    if not captured:
        return
    events: list[PendingEvent] = []
    for item in captured:
        record_type = record_type_of(item.obj)
        if item.kind == "create":
            snapshot = _column_snapshot(item.obj)
            events.append(
                PendingEvent(AuditAction.CREATE, record_type, _identity(item.obj), snapshot)
            )
        elif item.kind == "update":
            state_field = item.obj.__audit_state_field__
            is_transition = state_field is not None and state_field in (item.changes or {})
            action = AuditAction.TRANSITION if is_transition else AuditAction.UPDATE
            events.append(PendingEvent(action, record_type, item.record_id, item.changes))
        else:
            events.append(
                PendingEvent(AuditAction.DELETE, record_type, item.record_id, item.changes)
            )
    append_events(session.connection(), events)


@event.listens_for(Session, "after_rollback")
def _forget_pending(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_changes(state: ORMExecuteState) -> None:
    """Bulk UPDATE/DELETE bypass the unit of work, so they would bypass the trail: refuse them."""
    if not (state.is_update or state.is_delete):
        return
    for mapper in state.all_mappers:
        if issubclass(mapper.class_, Audited):
            raise RuntimeError(
                f"bulk {'UPDATE' if state.is_update else 'DELETE'} on audited "
                f"{mapper.class_.__name__} would bypass the audit trail; change objects instead"
            )


# --- verification -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainVerification:
    ok: bool
    count: int
    head_hash: str
    first_hash: str | None = None
    broken_event_id: int | None = None
    problem: str | None = None

    def summary(self) -> str:
        if self.ok:
            return f"OK {self.count} events, head {self.head_hash}"
        return f"BROKEN at event {self.broken_event_id}: {self.problem}"


_VERIFY_COLUMNS = [
    AuditEvent.id,
    AuditEvent.occurred_at,
    AuditEvent.actor,
    AuditEvent.actor_user_id,
    AuditEvent.action,
    AuditEvent.record_type,
    AuditEvent.record_id,
    AuditEvent.changes,
    AuditEvent.reason,
    AuditEvent.request_id,
    AuditEvent.remote_addr,
    AuditEvent.prev_hash,
    AuditEvent.hash,
]


def verify_chain(connection: Connection, batch_size: int = 20_000) -> ChainVerification:
    """Recompute every event's hash in id order and check each link to the one before.

    Streams in batches, so memory stays flat however long the trail is. Names the first broken
    event: content changed after writing, an event removed or reordered, or a gap in the ids.
    """
    expected_prev = GENESIS_HASH
    expected_id = 1
    count = 0
    first_hash: str | None = None
    last_id = 0
    keys = [column.key for column in _VERIFY_COLUMNS]
    while True:
        result = connection.execute(
            select(*_VERIFY_COLUMNS)
            .where(AuditEvent.id > last_id)
            .order_by(AuditEvent.id)
            .limit(batch_size)
        )
        rows = result.all()
        if not rows:
            break
        for values in rows:
            row = dict(zip(keys, values, strict=True))
            event_id = row["id"]
            if event_id != expected_id:
                return ChainVerification(
                    False,
                    count,
                    expected_prev,
                    first_hash,
                    event_id,
                    f"expected event {expected_id} next; events are missing before this one",
                )
            if row["prev_hash"] != expected_prev:
                return ChainVerification(
                    False,
                    count,
                    expected_prev,
                    first_hash,
                    event_id,
                    "its previous-hash link does not match the event before it",
                )
            if event_hash(row) != row["hash"]:
                return ChainVerification(
                    False,
                    count,
                    expected_prev,
                    first_hash,
                    event_id,
                    "its content does not match its hash (changed after it was written)",
                )
            expected_prev = row["hash"]
            first_hash = first_hash or row["hash"]
            expected_id += 1
            count += 1
        last_id = rows[-1][0]
    return ChainVerification(True, count, expected_prev, first_hash)
