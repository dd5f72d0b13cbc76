"""The audit trail: capture from session events, redaction, append-only triggers, the hash chain."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from app.accounts.models import User
from app.core.audit import (
    GENESIS_HASH,
    AuditAction,
    AuditEvent,
    acting_as,
    audit_reason,
    verify_chain,
)
from app.extensions import db
from app.organisation.models import Customer, CustomerSegment, Site
from tests import factories
from tests.conftest import is_postgres
from tests.processes import run_together

ROOT = Path(__file__).resolve().parents[2]


def events_for(session, record) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.record_type == record.__tablename__,
                AuditEvent.record_id == str(record.id),
            )
            .order_by(AuditEvent.id)
        )
    )


def test_create_update_and_delete_are_captured_with_old_and_new_values(session):
    with acting_as("lead@example.com", 42):
        site = Site(code="LDN", name="London")
        session.add(site)
        session.flush()
        site.name = "London West"
        site.address = "1 High Street"
        session.flush()
        with audit_reason("site closed"):
            session.delete(site)
            session.flush()
    created, updated, deleted = events_for(session, site)
    assert created.action == AuditAction.CREATE
    assert created.changes_dict["name"] == [None, "London"]
    assert created.actor == "lead@example.com" and created.actor_user_id == 42
    assert updated.action == AuditAction.UPDATE
    assert updated.changes_dict == {
        "name": ["London", "London West"],
        "address": ["", "1 High Street"],
    }
    assert deleted.action == AuditAction.DELETE
    assert deleted.reason == "site closed"
    assert deleted.changes_dict["name"] == ["London West", None]


def test_a_flush_without_real_changes_writes_nothing(session):
    site = Site(code="NOP", name="Unchanged")
    session.add(site)
    session.flush()
    site.name = "Unchanged"
    session.flush()
    assert [e.action for e in events_for(session, site)] == [AuditAction.CREATE]


def test_password_hashes_never_reach_the_trail(session):
    user = factories.create_user("auditor")
    created = events_for(session, user)[0]
    assert created.changes_dict["password_hash"] == [None, "[redacted]"]
    assert "argon2" not in (created.changes or "")


def test_a_web_request_is_attributed_to_the_signed_in_user(client, login, session):
    admin = login("admin")
    response = client.post(
        "/admin/users/new",
        data={
            "email": "new.person@example.com",
            "full_name": "New Person",
            "role": "contributor",
            "password": "a fine long password",
        },
    )
    assert response.status_code == 302
    new_user = session.scalar(select(User).where(User.email == "new.person@example.com"))
    created = events_for(session, new_user)[0]
    assert created.actor == admin.email
    assert created.actor_user_id == admin.id
    assert created.remote_addr == "127.0.0.1"
    assert created.request_id


def test_bulk_updates_of_audited_records_are_refused(session):
    with pytest.raises(RuntimeError, match="bypass the audit trail"):
        session.execute(update(Customer).values(active=False))


def test_events_chain_each_to_the_one_before(session):
    for n in range(3):
        session.add(Customer(name=f"Chain {n}", segment=CustomerSegment.CONSUMER))
        session.flush()
    events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    assert events[0].prev_hash == GENESIS_HASH
    for before, after in itertools.pairwise(events):
        assert after.prev_hash == before.hash
        assert after.id == before.id + 1
    result = verify_chain(session.connection())
    assert result.ok and result.count == len(events) and result.head_hash == events[-1].hash


@pytest.mark.parametrize("statement", ["update", "delete"])
def test_the_database_refuses_to_change_or_remove_events(session, statement):
    session.add(Site(code="TRG", name="Trigger check"))
    session.flush()
    target = session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
    change = (
        update(AuditEvent).where(AuditEvent.id == target).values(actor="mallory")
        if statement == "update"
        else delete(AuditEvent).where(AuditEvent.id == target)
    )
    nested = session.begin_nested()
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(change)
    nested.rollback()


# --- tampering and verification, on a database of its own (real commits) ---------------------


def _tamper(connection, sql: str) -> None:
    """Change the trail the way an attacker with database access would: around the triggers."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
        connection.execute(text(sql))
        connection.execute(text("ALTER TABLE audit_event ENABLE TRIGGER USER"))
    else:
        connection.execute(text("DROP TRIGGER audit_event_no_update"))
        connection.execute(text("DROP TRIGGER audit_event_no_delete"))
        connection.execute(text(sql))


@pytest.fixture()
def trail_app(databases):
    app = databases.new_migrated_app()
    with app.app_context(), acting_as("system:test"):
        for n in range(5):
            db.session.add(Site(code=f"T{n}", name=f"Tamper site {n}"))
            db.session.commit()
    return app


def run_verify_cli(app) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": app.config["DATABASE_URL"], "LOOP_ENV": "testing"}
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "audit", "verify"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_verify_command_reports_an_intact_chain(trail_app):
    result = run_verify_cli(trail_app)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK 5 events, head ")
    with trail_app.app_context():
        head = db.session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    assert result.stdout.splitlines()[0].endswith(head)


def test_verify_command_names_an_event_changed_behind_the_triggers_back(trail_app):
    engine = trail_app.extensions["loop_db"].engine
    with engine.begin() as connection:
        _tamper(connection, "UPDATE audit_event SET actor = 'mallory' WHERE id = 3")
    result = run_verify_cli(trail_app)
    assert result.returncode == 1
    assert result.stdout.splitlines()[0] == (
        "BROKEN at event 3: its content does not match its hash (changed after it was written)"
    )


def test_verify_names_the_event_after_a_removed_one(trail_app):
    engine = trail_app.extensions["loop_db"].engine
    with engine.begin() as connection:
        _tamper(connection, "DELETE FROM audit_event WHERE id = 2")
    with engine.connect() as connection:
        result = verify_chain(connection)
    assert not result.ok
    assert result.broken_event_id == 3
    assert result.count == 1


def test_auditor_page_shows_a_broken_chain(trail_app):
    engine = trail_app.extensions["loop_db"].engine
    with engine.begin() as connection:
        _tamper(connection, "UPDATE audit_event SET changes = '{}' WHERE id = 4")
    with trail_app.app_context():
        factories.create_user("auditor", email="reader@example.com")
        db.session.commit()
    client = trail_app.test_client()
    client.post("/login", data={"email": "reader@example.com", "password": factories.TEST_PASSWORD})
    page = client.get("/audit/verify").get_data(as_text=True)
    assert "Broken at event 4" in page


# --- concurrent writers never fork the chain ----------------------------------------------------


def test_concurrent_writers_in_separate_processes_keep_one_chain(databases):
    app = databases.new_migrated_app()
    url = app.config["DATABASE_URL"]
    workers, per_worker = 4, 15
    run_together(
        [
            ["-m", "tests.core.concurrent_writer", url, str(n), str(per_worker)]
            for n in range(workers)
        ]
    )
    with app.extensions["loop_db"].engine.connect() as connection:
        result = verify_chain(connection)
        actors = connection.execute(
            select(AuditEvent.actor).where(AuditEvent.action == "create")
        ).scalars()
        per_actor: dict[str, int] = {}
        for actor in actors:
            per_actor[actor] = per_actor.get(actor, 0) + 1
    assert result.ok, result.summary()
    assert result.count == workers * per_worker
    assert per_actor == {f"system:writer-{n}": per_worker for n in range(workers)}


def test_gets_that_write_and_writers_in_separate_processes_keep_one_chain(databases):
    # GETs begin deferred and become writers only when they write (app.core.transactions): racing
    # immediate writers, their upgrades are refused and they run again, and the chain holds.
    if is_postgres():
        pytest.skip("deferred read transactions are SQLite's")
    app = databases.new_migrated_app()
    url = app.config["DATABASE_URL"]
    with app.app_context():
        user = factories.create_user("quality_lead")
        db.session.commit()
        email = user.email
    writers, getters, per_process = 2, 2, 12
    commands = [
        ["tests.core.concurrent_writer", url, str(n), str(per_process)] for n in range(writers)
    ] + [
        ["tests.core.concurrent_get_writer", url, email, factories.TEST_PASSWORD, str(per_process)]
        for _ in range(getters)
    ]
    run_together([["-m", *command] for command in commands])
    with app.extensions["loop_db"].engine.connect() as connection:
        result = verify_chain(connection)
        actions = connection.execute(select(AuditEvent.action)).scalars().all()
    assert result.ok, result.summary()
    assert actions.count("export") == getters * per_process
    assert actions.count("create") == writers * per_process + 1  # + the user
