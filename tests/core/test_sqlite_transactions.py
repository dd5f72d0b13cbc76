"""SQLite transactions: writers take the lock up front and queue; a long read holds nobody up."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from app.core.audit import AuditAction, AuditEvent
from app.core.db import make_engine, read_only_connection
from app.extensions import db
from tests import factories
from tests.conftest import is_postgres


@pytest.fixture()
def engine(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'locks.sqlite3'}", busy_timeout_ms=200)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)"))
        connection.execute(text("INSERT INTO note (body) VALUES ('first')"))
    yield engine
    engine.dispose()


def test_a_writer_waits_for_another_writers_transaction(engine) -> None:
    with engine.connect() as first, engine.connect() as second:
        first.execute(text("SELECT count(*) FROM note"))  # BEGIN IMMEDIATE: the lock is taken
        with pytest.raises(Exception, match="database is locked"):
            second.execute(text("SELECT count(*) FROM note"))


def test_a_read_only_connection_lets_writers_commit_while_it_reads(engine) -> None:
    with read_only_connection(engine) as reader:
        assert reader.execute(text("SELECT count(*) FROM note")).scalar() == 1
        with engine.begin() as writer:  # would time out if the reader held the write lock
            writer.execute(text("INSERT INTO note (body) VALUES ('second')"))
        # The reader keeps its snapshot: what it verifies does not shift under it.
        assert reader.execute(text("SELECT count(*) FROM note")).scalar() == 1
    with engine.connect() as fresh:
        assert fresh.execute(text("SELECT count(*) FROM note")).scalar() == 2


@pytest.fixture()
def committing_app(databases):
    """An app on its own SQLite file whose requests really commit (no test transaction)."""
    if is_postgres():
        pytest.skip("SQLite write locks")
    app = databases.new_migrated_app()
    with app.app_context():
        user = factories.create_user("quality_lead")
        db.session.commit()
        email = user.email
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": factories.TEST_PASSWORD})
    assert response.status_code == 302
    return app, client


def _a_writer_gets_in(app) -> bool:
    """Whether another connection can start a write transaction at this moment (no waiting)."""
    engine = make_engine(str(app.config["DATABASE_URL"]), busy_timeout_ms=50)
    try:
        with engine.begin() as writer:
            writer.execute(text("SELECT 1"))  # BEGIN IMMEDIATE ran before it
        return True
    except OperationalError:
        return False
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("path", "slow_part"),
    [
        ("/?period=90", "app.metrics.services.capa_ageing"),
        ("/audit/verify", "app.audit.services.verify_chain"),
        (
            "/reports/audit-trail.pdf?date_from=2000-01-01&date_to=2099-12-31",
            "reports.audit_extract.verify_chain",
        ),
    ],
)
def test_long_reads_in_a_request_do_not_hold_up_writers(
    committing_app, monkeypatch, path, slow_part
) -> None:
    app, client = committing_app
    module_name, _, name = slow_part.rpartition(".")
    module = importlib.import_module(module_name)
    original = getattr(module, name)
    writer_got_in: list[bool] = []

    def meanwhile(*args, **kwargs):
        writer_got_in.append(_a_writer_gets_in(app))
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, meanwhile)
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert writer_got_in == [True]
    if path.startswith("/reports/"):  # the download is still recorded after the read
        with app.app_context():
            exports = db.session.scalars(
                select(AuditEvent).where(AuditEvent.action == AuditAction.EXPORT)
            ).all()
            assert len(exports) == 1


def test_a_request_that_writes_still_holds_the_lock_while_it_works(committing_app) -> None:
    # The check above can fail: during an ordinary request the write lock is held.
    app, _client = committing_app
    with app.test_request_context():
        db.session.execute(text("SELECT 1"))
        assert not _a_writer_gets_in(app)
        db.session.rollback()
