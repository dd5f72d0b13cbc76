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
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import g, has_request_context, request
from sqlalchemy import (
    Index,
    Integer,
    String,
    Text,
    bindparam,
    column,
    event,
    insert,
    inspect,
    select,
    table,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import (
    Mapped,
    ORMExecuteState,
    Session,
    attributes,
    mapped_column,
    object_session,
)

from app.core import data_version
from app.core.audit_links import (
    initial_links,
    link_change,
    link_history,
    name_references,
)
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
    - `__audit_state_field__`: the workflow state column; a change to it is a `transition`;
    - `__audit_label__`: the column that names a record (a reference, a name) where the trail
      refers to it (see `app.core.audit_labels`);
    - `__audit_link_mirrors__`: many-to-many relationships whose changes are recorded on the other
      side's events (the relationship they mirror owns the link), so a link is written once;
    - `__audit_field_labels__`: how a reader names a field, where the column name would not do;
    - `__audit_type_label__`: how a reader names the record type ("Complaint", not "complaint");
    - `__audit_money__`: money columns, each → the column holding its currency (or None);
    - `__audit_bookkeeping__`: more fields readers may skip (ids and timestamps always are).

    Every other relationship is captured: a many-to-one by its foreign-key column (and the name of
    the record it points to, under the relationship's key), a many-to-many as the members added
    and removed (id and name) on this record's event, a one-to-many by the other side's column.
    """

    __audit_exclude__: frozenset[str] = frozenset({"updated_at", "version"})
    __audit_redact__: frozenset[str] = frozenset()
    __audit_state_field__: str | None = None
    __audit_label__: str | None = None
    __audit_link_mirrors__: frozenset[str] = frozenset()
    __audit_field_labels__: Mapping[str, str] = {}
    __audit_type_label__: str | None = None
    __audit_money__: Mapping[str, str | None] = {}
    __audit_bookkeeping__: frozenset[str] = frozenset()


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


_AS_IS = frozenset({type(None), bool, int, float, str})


def jsonable(value: Any) -> Any:
    # Exact built-in types first (the bulk writers serialise millions of values); anything else
    # takes the general path below, so every value serialises exactly as it always has.
    kind = type(value)
    if kind in _AS_IS:
        return value
    if kind is datetime:
        return value.isoformat()
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
    return _content_hash(
        row["id"],
        _timestamp_text(row["occurred_at"]),
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
    )


def _content_encoder() -> Callable[[list[Any]], str]:
    """`json.dumps(fields, separators=(",", ":"), ensure_ascii=False)`, built once.

    json.dumps builds an encoder on every call; verify_chain hashes millions of events, so this
    builds the same C encoder that json.dumps uses once, checks it writes exactly what json.dumps
    writes, and falls back to a reused JSONEncoder (the same output, a little slower) otherwise.
    """
    encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
    make_c_encoder = getattr(json.encoder, "c_make_encoder", None)
    if make_c_encoder is None:
        return encoder.encode
    try:
        c_encoder = make_c_encoder(
            None,
            encoder.default,
            json.encoder.encode_basestring,
            None,
            ":",
            ",",
            False,
            False,
            True,
        )

        def encode(fields: list[Any]) -> str:
            return "".join(c_encoder(fields, 0))

        sample: list[Any] = [7, 'a "quoted" ü\\ \n\x00 \u2028 ☃', None, -1, True, 1.5, {"k": [1]}]
        if encode(sample) == json.dumps(sample, separators=(",", ":"), ensure_ascii=False):
            return encode
    except Exception:  # a Python whose json internals differ: the plain encoder is as correct
        pass
    return encoder.encode


_encode_content = _content_encoder()


def _content_hash(*fields: Any) -> str:
    """The hash of an event's fields in event_hash's order, occurred_at already formatted."""
    return hashlib.sha256(_encode_content(list(fields)).encode()).hexdigest()


def _timestamp_text(value: datetime) -> str:
    """`format_timestamp(value)`, faster: for years 1000-9999 (always, in practice) `isoformat`
    gives the same digits as strftime's `%Y-%m-%dT%H:%M:%S.%f` (strftime does not pad years below
    1000 to four digits, so those keep the original)."""
    if value.year >= 1000:
        return value.isoformat(timespec="microseconds")[:26] + "Z"
    return format_timestamp(value)


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
    if any(pending.action in _RECORD_CHANGES for pending in events):
        data_version.bump(connection)
    return rows


# The actions that change controlled records (and so figures computed from them).
_RECORD_CHANGES = frozenset(
    {AuditAction.CREATE, AuditAction.UPDATE, AuditAction.DELETE, AuditAction.TRANSITION}
)


def record_event(
    session: Session,
    action: AuditAction,
    record_type: str,
    record_id: object | None = None,
    changes: dict[str, Any] | None = None,
    reason: str | None = None,
) -> None:
    """Write one explicit event (login, sign, export…) in the session's transaction.

    `changes` holds the event's details as field → value; they are stored as [None, value]
    pairs, the same shape as captured changes, so every event reads the same way."""
    pending = PendingEvent(
        action=action,
        record_type=record_type,
        record_id=None if record_id is None else str(record_id),
        changes=(
            {key: [None, jsonable(value)] for key, value in changes.items()}
            if changes is not None
            else None
        ),
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
    return changes


def bulk_create_events(
    connection: Connection,
    model: Any,
    rows: list[Mapping[str, Any]],
    *,
    links: Mapping[Any, Mapping[str, list[Any]]] | None = None,
    names: dict[tuple[str, str], str] | None = None,
    reason: str | None = None,
) -> list[dict[str, Any]]:
    """Write the `create` events of rows inserted in bulk (Core), the same events the ORM writes
    for them: every non-empty audited column, the names of referenced records and, from `links`
    (row id → relationship key → linked records as `{"id", "label"}`), the initial members of
    its many-to-many relationships."""
    excluded = model.__audit_exclude__
    redacted = model.__audit_redact__
    items: list[tuple[Any, dict[str, Any]]] = []
    for row in rows:
        snapshot = {
            key: [None, REDACTED if key in redacted else jsonable(value)]
            for key, value in row.items()
            if key not in excluded and value is not None
        }
        items.append((model, snapshot))
    name_references(connection, items, names)
    events = []
    for row, (_, snapshot) in zip(rows, items, strict=True):
        for key, members in ((links or {}).get(row["id"]) or {}).items():
            if members:
                snapshot[key] = {"added": sorted(members, key=lambda m: str(m["id"]).zfill(20))}
        events.append(
            PendingEvent(AuditAction.CREATE, model.__tablename__, str(row["id"]), snapshot, reason)
        )
    return append_events(connection, events)


_PENDING_KEY = "loop_audit_pending"


@dataclass
class _Captured:
    kind: str
    obj: Audited
    changes: dict[str, Any] | None
    record_id: str | None = None
    links: dict[str, tuple[list[Any], list[Any]]] | None = None


@event.listens_for(Session, "before_flush")
def _capture_before_flush(session: Session, flush_context: Any, instances: Any) -> None:
    captured: list[_Captured] = session.info.setdefault(_PENDING_KEY, [])
    for obj in session.new:
        if isinstance(obj, Audited):
            captured.append(_Captured("create", obj, None, links=initial_links(obj)))
    for obj in session.dirty:
        if isinstance(obj, Audited) and session.is_modified(obj):
            changes = _diff(obj)
            links = link_history(obj)
            if changes or links:
                captured.append(_Captured("update", obj, changes, _identity(obj), links))


@event.listens_for(Audited, "before_delete", propagate=True)
def _capture_delete(mapper: Any, connection: Connection, target: Audited) -> None:
    # Deletions are caught as the flush performs them, not from `session.deleted` beforehand:
    # rows removed by a delete-orphan or delete cascade are found only during the flush.
    session = object_session(target)
    if session is None:
        return
    snapshot = {key: [old, None] for key, (_, old) in _column_snapshot(target).items()}
    session.info.setdefault(_PENDING_KEY, []).append(
        _Captured("delete", target, snapshot, _identity(target))
    )


@event.listens_for(Session, "after_flush")
def _write_after_flush(session: Session, flush_context: Any) -> None:
    captured: list[_Captured] = session.info.pop(_PENDING_KEY, [])
    if not captured:
        return
    connection = session.connection()
    items: list[tuple[Any, dict[str, Any]]] = []
    for item in captured:
        if item.kind == "create":
            item.changes = _column_snapshot(item.obj)
            item.record_id = _identity(item.obj)
        items.append((type(item.obj), item.changes or {}))
    # Names of the records that foreign keys point to, as they are now: one query for the flush.
    name_references(connection, items)
    events: list[PendingEvent] = []
    for item in captured:
        changes = item.changes or {}
        for key, (added, removed) in (item.links or {}).items():
            change = link_change(added, removed)
            if change:
                changes[key] = change
        record_type = record_type_of(item.obj)
        if item.kind == "create":
            action = AuditAction.CREATE
        elif item.kind == "update":
            state_field = item.obj.__audit_state_field__
            is_transition = state_field is not None and state_field in changes
            action = AuditAction.TRANSITION if is_transition else AuditAction.UPDATE
        else:
            action = AuditAction.DELETE
        events.append(PendingEvent(action, record_type, item.record_id, changes))
    append_events(connection, events)


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


# verify_chain reads the columns untyped: raw driver values, with no per-row type processing.
_RAW_EVENTS = table(
    AuditEvent.__tablename__,
    *(
        column(name)
        for name in (
            "id",
            "occurred_at",
            "actor",
            "actor_user_id",
            "action",
            "record_type",
            "record_id",
            "changes",
            "reason",
            "request_id",
            "remote_addr",
            "prev_hash",
            "hash",
        )
    ),
)
# How SQLAlchemy's SQLite dialect stores a UTCDateTime: naive UTC, always with microseconds.
_SQLITE_TIMESTAMP = re.compile(r"[1-9]\d{3}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}")


def _raw_timestamp_reader(connection: Connection) -> Callable[[Any], str]:
    """Turn a raw `occurred_at` from the driver into the text event_hash formats it as.

    A SQLite value in the dialect's own storage format becomes that text by moving characters
    (the same digits strftime would write after parsing it); anything else (PostgreSQL's datetimes,
    an unexpected string) goes through the column type's own result processing, as an ORM read does.
    """
    dialect = connection.dialect
    to_datetime = AuditEvent.__table__.c.occurred_at.type.dialect_impl(dialect).result_processor(
        dialect, None
    ) or (lambda value: value)
    fast = dialect.name == "sqlite"
    match = _SQLITE_TIMESTAMP.fullmatch

    def read(raw: Any) -> str:
        if fast and type(raw) is str and match(raw):
            return f"{raw[:10]}T{raw[11:]}Z"
        return _timestamp_text(to_datetime(raw))

    return read


def verify_chain(
    connection: Connection,
    batch_size: int = 20_000,
    progress: Callable[[int], None] | None = None,
    *,
    after_id: int = 0,
    after_hash: str = GENESIS_HASH,
) -> ChainVerification:
    """Recompute every event's hash in id order and check each link to the one before.

    Streams in batches (keyset pagination on the id), so memory stays flat however long the trail
    is. Names the first broken event: content changed after writing, an event removed or
    reordered, or a gap in the ids. `progress`, if given, hears the count after every batch. With
    `after_id`/`after_hash` (a checkpointed head) only the events after that one are checked, and
    `count` counts those.
    """
    expected_prev = after_hash
    expected_id = after_id + 1
    count = 0
    first_hash: str | None = None
    timestamp_text = _raw_timestamp_reader(connection)
    events = _RAW_EVENTS.c
    statement = (
        select(*events)
        .where(events.id > bindparam("after", type_=Integer))
        .order_by(events.id)
        .limit(batch_size)
    )
    last_id = after_id
    while True:
        rows = connection.execute(statement, {"after": last_id}).all()
        if not rows:
            break
        for (
            event_id,
            occurred_at,
            actor,
            actor_user_id,
            action,
            record_type,
            record_id,
            changes,
            reason,
            request_id,
            remote_addr,
            prev_hash,
            stored_hash,
        ) in rows:
            if event_id != expected_id:
                return ChainVerification(
                    False,
                    count,
                    expected_prev,
                    first_hash,
                    event_id,
                    f"expected event {expected_id} next; events are missing before this one",
                )
            if prev_hash != expected_prev:
                return ChainVerification(
                    False,
                    count,
                    expected_prev,
                    first_hash,
                    event_id,
                    "its previous-hash link does not match the event before it",
                )
            computed = _content_hash(
                event_id,
                timestamp_text(occurred_at),
                actor,
                actor_user_id,
                str(action),
                record_type,
                record_id,
                changes,
                reason,
                request_id,
                remote_addr,
                prev_hash,
            )
            if computed != stored_hash:
                return ChainVerification(
                    False,
                    count,
                    expected_prev,
                    first_hash,
                    event_id,
                    "its content does not match its hash (changed after it was written)",
                )
            expected_prev = stored_hash
            if first_hash is None:
                first_hash = stored_hash
            expected_id += 1
            count += 1
        last_id = rows[-1][0]
        if progress is not None:
            progress(count)  # events verified so far (a background task shows it)
    return ChainVerification(True, count, expected_prev, first_hash)
