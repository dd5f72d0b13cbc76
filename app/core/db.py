"""Database plumbing: the declarative base, typed column aliases, mixins, engine and session.

One engine per application, one session per application context. Services change records and
`flush()`; the request (or CLI command, or job) commits once at the end.
"""

from __future__ import annotations

import contextlib
import enum
import os
import weakref
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from flask import Flask, current_app
from flask.globals import app_ctx
from sqlalchemy import (
    DateTime,
    Enum,
    Integer,
    MetaData,
    String,
    TypeDecorator,
    create_engine,
    event,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    declared_attr,
    mapped_column,
    scoped_session,
    sessionmaker,
)
from sqlalchemy.orm.exc import StaleDataError

from app.core.transactions import (
    BEGUN_DEFERRED,
    WROTE,
    deferred_wanted,
    note_begin,
    refused_upgrade,
)

T = TypeVar("T")

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always UTC-aware in Python, whatever the database keeps.

    SQLite has no time zones, so values are stored as naive UTC there; PostgreSQL gets timestamptz.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a UTC timestamp is required")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def enum_type(enum_class: type[enum.Enum], name: str) -> Enum:
    """An enum stored by value as a string, with a CHECK constraint listing the allowed values."""
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(member.value) for member in enum_class),
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


intpk = Annotated[int, mapped_column(Integer, primary_key=True)]
utc_timestamp = Annotated[datetime, mapped_column(UTCDateTime())]
created_at_column = Annotated[datetime, mapped_column(UTCDateTime(), default=utcnow)]
str_name = Annotated[str, mapped_column(String(200))]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}

    def __repr__(self) -> str:
        identity = getattr(self, "id", None)
        return f"<{type(self).__name__} id={identity!r}>"


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class VersionedMixin:
    """Optimistic locking: a save based on a stale version is refused by the database layer."""

    version: Mapped[int] = mapped_column(Integer, nullable=False)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.version}


class AppBoundSession(Session):
    """A session that finds its engine (or a test's connection) through the current app."""

    def get_bind(
        self, mapper: Any = None, clause: Any = None, bind: Any = None, **kwargs: Any
    ) -> Any:
        if bind is not None:
            return bind
        return current_app.extensions["loop_db"].bind


def _app_context_id() -> int:
    return id(app_ctx._get_current_object())


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin (see "begin").
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        if connection.get_execution_options().get(READ_ONLY_OPTION) or deferred_wanted():
            # A reader in WAL mode sees a consistent snapshot without holding up any writer; a
            # GET's read turns into a write in place, or the request runs again (transactions).
            connection.exec_driver_sql("BEGIN")
            note_begin(connection, deferred=True)
            return
        # IMMEDIATE takes the write lock up front: concurrent writers wait for the busy timeout
        # instead of failing with "database is locked" when a read turns into a write.
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        note_begin(connection, deferred=False)

    event.listen(engine, "handle_error", refused_upgrade)

    @event.listens_for(engine, "before_cursor_execute")
    def _note_writes(
        connection: Connection, cursor: Any, statement: str, *args: Any, **kwargs: Any
    ) -> None:
        if statement[:6].upper() in _WRITE_VERBS:
            connection.info[WROTE] = True


_WRITE_VERBS = frozenset({"INSERT", "UPDATE", "DELETE", "REPLAC"})


READ_ONLY_OPTION = "loop_read_only"


@contextlib.contextmanager
def read_only_connection(engine: Engine) -> Iterator[Connection]:
    """A connection for a long read that must not hold up writers (verifying the audit chain):
    on SQLite its transaction takes no write lock. Never write through it."""
    with engine.connect() as connection:
        yield connection.execution_options(**{READ_ONLY_OPTION: True})


def continue_read_only(session: Session) -> None:
    """Commit what the request did so far and go on in a transaction that only reads: on SQLite it
    takes no write lock, so a long read in a request (a cold dashboard, verifying the audit chain)
    does not make every writer wait for it. Nothing may be written after this call."""
    session.commit()
    session.connection(execution_options={READ_ONLY_OPTION: True})


def renew_read_snapshot(session: Session) -> None:
    """End the session's transaction if it was begun deferred and has only read, so that the
    writes that follow start from the newest state. After a long read (rendering a report) some
    other writer has nearly always committed, and a deferred transaction's upgrade would then be
    refused and the whole request run again. Does nothing anywhere else (a transaction that wrote,
    one begun IMMEDIATE, PostgreSQL)."""
    if isinstance(session, scoped_session):
        session = session()
    if not session.in_transaction():
        return
    info = session.connection().info
    if info.get(BEGUN_DEFERRED) and not info.get(WROTE):
        session.commit()


def make_engine(url: str, *, busy_timeout_ms: int = 30_000, sqlite_pool_size: int = 5) -> Engine:
    if url.startswith("sqlite"):
        if ":memory:" in url:
            engine = create_engine(url)
        else:
            # A small pool per process: the pragmas run once per connection (the "connect"
            # event), and the WAL is not checkpointed on every close as it was with NullPool.
            engine = create_engine(
                url, pool_size=sqlite_pool_size, max_overflow=2 * sqlite_pool_size
            )
            _dispose_in_forked_children(engine)
        _configure_sqlite(engine, busy_timeout_ms)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _dispose_in_forked_children(engine: Engine) -> None:
    """A forked worker (gunicorn --preload) must not share the parent's pooled connections."""
    reference = weakref.ref(engine)

    def forget_parent_connections() -> None:
        forked = reference()
        if forked is not None:
            forked.dispose(close=False)

    os.register_at_fork(after_in_child=forget_parent_connections)


class Database:
    """The app's engine and its per-application-context session."""

    def __init__(self) -> None:
        self.session: scoped_session[Session] = scoped_session(
            # create_savepoint: when tests bind sessions to a connection inside an outer
            # transaction, a commit releases a savepoint and the test's rollback undoes all.
            sessionmaker(
                class_=AppBoundSession,
                expire_on_commit=False,
                join_transaction_mode="create_savepoint",
            ),
            scopefunc=_app_context_id,
        )

    def init_app(self, app: Flask) -> None:
        url = str(app.config["DATABASE_URL"])
        engine = make_engine(
            url,
            busy_timeout_ms=int(app.config.get("SQLITE_BUSY_TIMEOUT_MS", 30_000)),
            sqlite_pool_size=int(app.config.get("SQLITE_POOL_SIZE", 5)),
        )
        app.extensions["loop_db"] = BoundDatabase(engine)

        @app.teardown_appcontext
        def _remove_session(exc: BaseException | None) -> None:
            self.session.remove()

    @staticmethod
    def engine() -> Engine:
        return current_app.extensions["loop_db"].engine

    def get_or_404(self, model: type[T], ident: object) -> T:
        from flask import abort

        record = self.session.get(model, ident)
        if record is None:
            abort(404)
        return record


class BoundDatabase:
    """Per-app state: the engine, and in tests a connection that sessions bind to instead."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.test_connection: Connection | None = None

    @property
    def bind(self) -> Engine | Connection:
        return self.test_connection if self.test_connection is not None else self.engine


def ensure_current_version(record: VersionedMixin, expected: object, label: str) -> None:
    """Refuse a save made from a stale copy of `record` (optimistic locking for forms and the API).

    `expected` is the version the editor loaded; anything other than the current one means someone
    else saved in between, and their change must not be overwritten silently.
    """
    from app.core.errors import StaleRecord

    try:
        expected_version = int(str(expected))
    except (TypeError, ValueError):
        raise StaleRecord(f"{label} could not be saved: the form is missing its version.") from None
    if expected_version != record.version:
        raise StaleRecord(stale_message(label))


def stale_message(label: str) -> str:
    return (
        f"{label} was changed by someone else since you opened it. "
        "Reload the page to see the current version, then make your change again."
    )


def flush_or_refuse_stale(session: Session, label: str) -> None:
    """Flush; a row whose version moved on under us (another request saved it between our read
    and our write) becomes a `StaleRecord` that says so, never a silent overwrite."""
    from app.core.errors import StaleRecord

    try:
        session.flush()
    except StaleDataError:
        raise StaleRecord(stale_message(label)) from None


@contextlib.contextmanager
def all_or_nothing(session: Session) -> Iterator[None]:
    """Undo everything done inside the block if it raises (a savepoint); the caller's earlier
    work is kept either way."""
    savepoint = session.begin_nested()
    try:
        yield
    except BaseException:
        if savepoint.is_active:
            savepoint.rollback()
        raise
    savepoint.commit()


_KEPT_WRITES = "loop_kept_writes"


def keep_despite_rollback(session: Session, write: Callable[[Session], None]) -> None:
    """Queue a write that must land even though the work around it is undone: a failed password
    check has to count toward the lockout although the refused signing rolls back. The request
    runs the queued writes in a commit of their own when it ends (`commit_kept_writes`)."""
    session.info.setdefault(_KEPT_WRITES, []).append(write)


def commit_kept_writes(session: Session) -> None:
    """Run and commit the writes queued by `keep_despite_rollback`, if any."""
    writes = session.info.pop(_KEPT_WRITES, [])
    if writes:
        for write in writes:
            write(session)
        session.commit()
