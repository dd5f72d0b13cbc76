"""Test fixtures.

The suite runs on SQLite always and on PostgreSQL when TEST_DATABASE_URL is set. Each run gets its
own database (a temporary SQLite file, or a new PostgreSQL database), a copy of a template migrated
once with the real `flask db upgrade` (see DatabaseFactory). Most tests run inside an outer
transaction that is rolled back afterwards; tests that need real commits across processes or
threads ask for `fresh_database_url` or `databases.new_migrated_app()`.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

import pytest

os.environ["LOOP_ENV"] = "testing"
# One instance folder per pytest-xdist worker: keys and files written there are not shared.
os.environ.setdefault(
    "LOOP_INSTANCE_DIR",
    f"/tmp/loop-qms-test-instance-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}",
)

from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, create_engine, event, func, make_url, select, text
from sqlalchemy.orm import Session

from app import create_app
from app.accounts import services as account_services
from app.extensions import db
from tests import factories

TEST_PASSWORD = factories.TEST_PASSWORD


class RememberingHasher(PasswordHasher):
    """The app's argon2id hasher, same parameters, remembering its work on the test password.

    At the production cost (19 MiB, two passes) a hash takes tens of milliseconds and so does a
    check, and most tests create a user and sign in. Here the test password is hashed once per
    process (every test user shares that real argon2id hash) and a check that succeeded is not
    repeated for the same hash; every other password, and every check that fails, still goes
    through argon2 each time.
    """

    def __init__(self, original: PasswordHasher) -> None:
        super().__init__(
            time_cost=original.time_cost,
            memory_cost=original.memory_cost,
            parallelism=original.parallelism,
            hash_len=original.hash_len,
            salt_len=original.salt_len,
            type=original.type,
        )
        self._test_password_hash: str | None = None
        self._verified: set[tuple[str | bytes, str | bytes]] = set()

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        if password != TEST_PASSWORD or salt is not None:
            return super().hash(password, salt=salt)
        if self._test_password_hash is None:
            self._test_password_hash = super().hash(password)
        return self._test_password_hash

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        if (hash, password) not in self._verified:
            super().verify(hash, password)  # raises when the password does not match
            self._verified.add((hash, password))
        return True


account_services.password_hasher = RememberingHasher(account_services.password_hasher)


def postgres_base_url() -> str | None:
    return os.environ.get("TEST_DATABASE_URL") or None


def is_postgres() -> bool:
    return postgres_base_url() is not None


class DatabaseFactory:
    """Makes empty or migrated databases of the kind this run tests, and removes them afterwards.

    The real migrations (`flask db upgrade`) run once per run (per pytest-xdist worker), into a
    template; every migrated database after that is a copy of it: on SQLite the file, copied with
    SQLite's backup API; on PostgreSQL a new database made with `CREATE DATABASE ... TEMPLATE`.
    tests/core/test_migrations.py runs every migration down to empty and up again on one of them.

    Every PostgreSQL database is a database of its own in TEST_DATABASE_URL's cluster, not a schema
    beside the others: the audit chain's advisory lock is per database, so one worker's writes
    never wait for another's. Its URL still sets `search_path` to a schema (SCHEMA), as a
    deployment in a schema of a shared database would.
    """

    SCHEMA = "loop_test"

    def __init__(self, tmp_dir: Path) -> None:
        self.tmp_dir = tmp_dir
        self.pg_databases: list[str] = []
        self._template: str | None = None

    # --- empty databases --------------------------------------------------------------------

    def new_url(self) -> str:
        """An empty, unmigrated database."""
        if postgres_base_url() is None:
            return self._sqlite_url(self._new_sqlite_path())
        name = self._create_pg_database()
        engine = create_engine(self._pg_url(name, search_path=False))
        with engine.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{self.SCHEMA}"'))
        engine.dispose()
        return self._pg_url(name)

    # --- migrated databases -----------------------------------------------------------------

    def new_migrated_url(self) -> str:
        """A database at the newest migration: a copy of this run's migrated template."""
        template = self._migrated_template()
        if postgres_base_url() is None:
            path = self._new_sqlite_path()
            with (
                contextlib.closing(sqlite3.connect(f"file:{template}?mode=ro", uri=True)) as source,
                contextlib.closing(sqlite3.connect(path)) as copy,
            ):
                source.backup(copy)
            return self._sqlite_url(path)
        return self._pg_url(self._create_pg_database(template=template))

    def new_migrated_app(self, **overrides: object) -> Flask:
        return create_app(
            {"DATABASE_URL": self.new_migrated_url(), "WTF_CSRF_ENABLED": False, **overrides}
        )

    def _migrated_template(self) -> str:
        """The SQLite file or PostgreSQL database name that `flask db upgrade` migrated, made on
        first use; nothing stays connected to it, so it can be copied."""
        if self._template is None:
            url = self.new_url()
            app = create_app({"DATABASE_URL": url})
            result = app.test_cli_runner().invoke(args=["db", "upgrade"])
            assert result.exit_code == 0, result.output
            app.extensions["loop_db"].engine.dispose()
            self._template = make_url(url).database
        return self._template

    # --- clean-up ---------------------------------------------------------------------------

    def drop_all(self) -> None:
        if not self.pg_databases:
            return
        engine = self._pg_admin()
        with engine.connect() as connection:
            for name in reversed(self.pg_databases):
                # FORCE: an app a test made and never disposed may still hold a connection.
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()

    # --- helpers ----------------------------------------------------------------------------

    def _new_sqlite_path(self) -> Path:
        return self.tmp_dir / f"loop-{uuid.uuid4().hex[:8]}.sqlite3"

    @staticmethod
    def _sqlite_url(path: Path) -> str:
        return f"sqlite:///{path}"

    @staticmethod
    def _pg_admin() -> Engine:
        return create_engine(postgres_base_url(), isolation_level="AUTOCOMMIT")

    def _create_pg_database(self, template: str | None = None) -> str:
        name = f"loop_test_{uuid.uuid4().hex[:10]}"
        engine = self._pg_admin()
        with engine.connect() as connection:
            copy_of = f' TEMPLATE "{template}"' if template else ""
            connection.execute(text(f'CREATE DATABASE "{name}"{copy_of}'))
        engine.dispose()
        self.pg_databases.append(name)
        return name

    def _pg_url(self, name: str, *, search_path: bool = True) -> str:
        url = make_url(postgres_base_url()).set(database=name)
        # Test data need not survive a crash: commits skip waiting for the WAL flush (cheaper).
        options = "-csynchronous_commit=off"
        if search_path:
            options = f"-csearch_path={self.SCHEMA} {options}"
        base = url.render_as_string(hide_password=False)
        separator = "&" if "?" in base else "?"
        return f"{base}{separator}options={quote(options)}"


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(tmp_path_factory.mktemp("databases"))
    yield factory
    factory.drop_all()


@pytest.fixture(scope="session")
def app(databases: DatabaseFactory) -> Flask:
    """The app most tests use: one migrated database, CSRF off (a dedicated test covers it)."""
    return databases.new_migrated_app()


@pytest.fixture()
def db_connection(app: Flask) -> Iterator[None]:
    """Everything the test and its requests write happens in one transaction, rolled back after."""
    bound = app.extensions["loop_db"]
    connection = bound.engine.connect()
    transaction = connection.begin()
    bound.test_connection = connection
    try:
        yield
    finally:
        bound.test_connection = None
        with app.app_context():
            db.session.remove()
        transaction.rollback()
        connection.close()


@pytest.fixture()
def session(app: Flask, db_connection: None) -> Iterator[Session]:
    """A database session inside an app context, for service-level tests."""
    with app.app_context():
        yield db.session()
        db.session.remove()


@pytest.fixture()
def client(app: Flask, db_connection: None) -> FlaskClient:
    return app.test_client()


@pytest.fixture()
def make_user(app: Flask, db_connection: None):
    """Create a user (committed into the test's transaction): make_user(role, email=..., ...)."""

    def make(role: str = "quality_lead", **fields: object):
        with app.app_context():
            user = factories.create_user(role=role, **fields)
            db.session.commit()
            return user

    return make


@pytest.fixture()
def login(client: FlaskClient, make_user):
    """Sign the test client in as a new user of `role`; returns the user."""

    def sign_in(role: str = "quality_lead", **fields: object):
        user = make_user(role, **fields)
        response = client.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)
        return user

    return sign_in


@pytest.fixture()
def fresh_database_url(databases: DatabaseFactory) -> str:
    """An empty, unmigrated database URL whose writes really commit (for multi-process tests)."""
    return databases.new_url()


@pytest.fixture()
def committed(app: Flask, db_connection: None) -> Callable[..., Any]:
    """Run `fn(*args, **kwargs)` in its own app context and commit, as a separate request would.
    Returned records are detached but keep their loaded values, so tests can read them."""

    def run(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        with app.app_context():
            result = fn(*args, **kwargs)
            db.session.commit()
            return result

    return run


@pytest.fixture()
def count(committed: Callable[..., Any]) -> Callable[[type], int]:
    """How many rows of `model` the database holds right now."""

    def rows(model: type) -> int:
        return committed(lambda: db.session.scalar(select(func.count()).select_from(model)))

    return rows


@pytest.fixture()
def fetch(committed: Callable[..., Any]) -> Callable[..., Any]:
    """A fresh copy of one record, read in its own session; `load` may touch relationships."""

    def get(model: type, ident: int, load: Callable[[Any], Any] | None = None) -> Any:
        def read() -> Any:
            record = db.session.get(model, ident)
            if load is not None and record is not None:
                load(record)
            return record

        return committed(read)

    return get


@pytest.fixture()
def count_queries(app: Flask) -> Callable[[Callable[[], Any]], int]:
    """How many SQL statements `action()` sends to the database (to catch N+1 queries)."""

    def measure(action: Callable[[], Any]) -> int:
        engine = app.extensions["loop_db"].engine
        statements: list[str] = []

        def record(conn, cursor, statement, parameters, context, executemany) -> None:
            statements.append(statement)

        event.listen(engine, "before_cursor_execute", record)
        try:
            action()
        finally:
            event.remove(engine, "before_cursor_execute", record)
        return len(statements)

    return measure


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that drives the browser, so `make test` runs them in their own pass."""
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)
