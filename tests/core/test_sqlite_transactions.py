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
        ("/audit/verify", "app.audit.checkpoints.verify_chain"),
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


# --- GET requests read in deferred transactions (app.core.transactions) -------------------------


@pytest.fixture()
def impatient_app(databases):
    """A committing app whose busy timeout is short: a request that waited for the lock fails."""
    if is_postgres():
        pytest.skip("SQLite write locks")
    app = databases.new_migrated_app(SQLITE_BUSY_TIMEOUT_MS=300)
    with app.app_context():
        user = factories.create_user("quality_lead")
        db.session.commit()
        email = user.email
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": factories.TEST_PASSWORD})
    assert response.status_code == 302
    return app, client


def _hold_the_write_lock(app):
    engine = make_engine(str(app.config["DATABASE_URL"]), busy_timeout_ms=50)
    connection = engine.connect()
    connection.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: the lock is held until rollback
    return engine, connection


def test_a_page_that_only_reads_is_served_while_a_writer_holds_the_lock(impatient_app) -> None:
    app, client = impatient_app
    engine, writer = _hold_the_write_lock(app)
    try:
        for path in ("/complaints", "/nonconformities", "/capa", "/audit"):
            response = client.get(path)
            assert response.status_code == 200, path
    finally:
        writer.rollback()
        writer.close()
        engine.dispose()


def test_a_list_page_read_does_not_hold_up_writers(committing_app, monkeypatch) -> None:
    app, client = committing_app
    from app.complaints import listing as complaint_listing

    original = complaint_listing.complaint_list_query
    writer_got_in: list[bool] = []

    def meanwhile(*args, **kwargs):
        writer_got_in.append(_a_writer_gets_in(app))
        return original(*args, **kwargs)

    monkeypatch.setattr(complaint_listing, "complaint_list_query", meanwhile)
    assert client.get("/complaints").status_code == 200
    assert writer_got_in == [True]


def _export_events(app) -> int:
    with app.app_context():
        return len(
            db.session.scalars(
                select(AuditEvent).where(AuditEvent.action == AuditAction.EXPORT)
            ).all()
        )


def test_a_get_that_writes_becomes_a_writer_in_place(committing_app, monkeypatch) -> None:
    app, client = committing_app
    from app.nonconformities import views as nc_views

    calls: list[str] = []
    original = nc_views.record_event

    def counting(*args, **kwargs):
        calls.append("export")
        return original(*args, **kwargs)

    monkeypatch.setattr(nc_views, "record_event", counting)
    response = client.get("/nonconformities/export.csv")
    assert response.status_code == 200
    assert calls == ["export"]  # nobody else wrote: the upgrade succeeded, no second run
    assert _export_events(app) == 1


def test_a_refused_upgrade_runs_the_request_again_as_a_writer(committing_app, monkeypatch) -> None:
    app, client = committing_app
    from app.core.audit import verify_chain
    from app.nonconformities import views as nc_views
    from app.organisation.models import Site

    calls: list[str] = []
    original = nc_views.record_event

    def someone_else_writes_first(*args, **kwargs):
        calls.append("export")
        if len(calls) == 1:
            # Another worker commits after this request took its snapshot: the snapshot is
            # stale, so SQLite refuses the upgrade (waiting could not help).
            writer_engine = make_engine(str(app.config["DATABASE_URL"]))
            with writer_engine.begin() as writer:
                writer.execute(
                    Site.__table__.insert().values(code="OTHER", name="Other site", version=1)
                )
            writer_engine.dispose()
        return original(*args, **kwargs)

    monkeypatch.setattr(nc_views, "record_event", someone_else_writes_first)
    response = client.get("/nonconformities/export.csv")
    assert response.status_code == 200
    assert response.get_data(as_text=True).startswith("\ufeffReference")
    assert calls == ["export", "export"]  # refused once, then run again from the start
    assert _export_events(app) == 1  # the first attempt left nothing behind
    with app.extensions["loop_db"].engine.connect() as connection:
        result = verify_chain(connection)
    assert result.ok, result.summary()


def test_pooled_connections_keep_their_pragmas_and_are_set_up_once(engine) -> None:
    from sqlalchemy import event

    set_ups: list[object] = []
    event.listen(engine, "connect", lambda dbapi_connection, record: set_ups.append(record))
    engine.dispose()  # start from an empty pool with the listener in place
    for _ in range(5):
        with engine.begin() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 200
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    assert len(set_ups) == 1  # one connection, reused: no set-up (nor WAL checkpoint) per use
