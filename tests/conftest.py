"""Test fixtures.

The suite runs on SQLite always and on PostgreSQL when TEST_DATABASE_URL is set. Each run gets its
own database (a temporary SQLite file, or a fresh PostgreSQL schema), migrated once with the real
`flask db upgrade`. Most tests run inside an outer transaction that is rolled back afterwards; tests
that need real commits across processes or threads ask for `fresh_database_url`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

os.environ["LOOP_ENV"] = "testing"
# One instance folder per pytest-xdist worker: keys and files written there are not shared.
os.environ.setdefault(
    "LOOP_INSTANCE_DIR",
    f"/tmp/loop-qms-test-instance-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}",
)

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.orm import Session

from app import create_app
from app.extensions import db
from tests import factories

TEST_PASSWORD = factories.TEST_PASSWORD


def postgres_base_url() -> str | None:
    return os.environ.get("TEST_DATABASE_URL") or None


def is_postgres() -> bool:
    return postgres_base_url() is not None


class DatabaseFactory:
    """Makes empty, migrated databases of the kind this run tests, and removes them afterwards."""

    def __init__(self, tmp_dir: Path) -> None:
        self.tmp_dir = tmp_dir
        self.schemas: list[str] = []

    def new_url(self) -> str:
        base = postgres_base_url()
        if base is None:
            return f"sqlite:///{self.tmp_dir / f'loop-{uuid.uuid4().hex[:8]}.sqlite3'}"
        schema = f"loop_test_{uuid.uuid4().hex[:10]}"
        engine = create_engine(base)
        with engine.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine.dispose()
        self.schemas.append(schema)
        separator = "&" if "?" in base else "?"
        # Test data need not survive a crash: commits skip waiting for the WAL flush (cheaper).
        options = f"-csearch_path={schema} -csynchronous_commit=off"
        return f"{base}{separator}options={quote(options)}"

    def new_migrated_app(self, **overrides: object) -> Flask:
        app = create_app({"DATABASE_URL": self.new_url(), "WTF_CSRF_ENABLED": False, **overrides})
        result = app.test_cli_runner().invoke(args=["db", "upgrade"])
        assert result.exit_code == 0, result.output
        return app

    def drop_all(self) -> None:
        base = postgres_base_url()
        if base is None or not self.schemas:
            return
        engine = create_engine(base)
        # One transaction per schema: dropping them all at once takes a lock per table of every
        # schema and runs out of PostgreSQL's lock table (max_locks_per_transaction).
        for schema in self.schemas:
            with engine.begin() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


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
