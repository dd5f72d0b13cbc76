"""Backups: created while the app writes, verified by restoring them into a temporary database
(integrity, audit chain and checkpoints, counts), restored only on purpose, and taken nightly by
the scheduler with a retention count. On SQLite and, with TEST_DATABASE_URL, PostgreSQL."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from app import create_app
from app.backups import services
from app.core.audit import AuditEvent, acting_as
from app.extensions import db
from app.organisation.models import Site
from app.scheduler.models import JobRunStatus
from app.scheduler.runner import run_job
from tests.audit import tampering
from tests.conftest import is_postgres

SUFFIX = ".dump" if is_postgres() else ".sqlite3"


@pytest.fixture()
def live(databases, tmp_path):
    app = databases.new_migrated_app(
        AUDIT_SIGNING_KEY_FILE=str(tmp_path / "signing.pem"),
        AUDIT_CHECKPOINT_PUBLISH=str(tmp_path / "published.jsonl"),
        BACKUP_DIR=str(tmp_path / "nightly"),
    )
    add_sites(app, 5)
    assert cli(app, "audit", "checkpoint").exit_code == 0
    return app


def head_revision() -> str:
    """The newest migration's revision id (what a backup of a current database records)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    root = Path(__file__).resolve().parents[2] / "migrations"
    config = Config(str(root / "alembic.ini"))
    config.set_main_option("script_location", str(root))
    return ScriptDirectory.from_config(config).get_current_head()


def add_sites(app, count: int, prefix: str = "B") -> None:
    with app.app_context(), acting_as("system:test"):
        start = db.session.scalar(select(func.count()).select_from(Site))
        for n in range(start, start + count):
            db.session.add(Site(code=f"{prefix}{n}", name=f"Backup site {n}"))
        db.session.commit()


def cli(app, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def event_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEvent))


def test_a_backup_taken_while_the_app_writes_verifies(live, tmp_path):
    stop = threading.Event()
    written = []

    def writer() -> None:
        n = 0
        while not stop.is_set() and n < 200:
            add_sites(live, 1, prefix=f"W{n}-")
            written.append(n)
            n += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        result = cli(live, "backup", "create", str(tmp_path / f"during{SUFFIX}"))
    finally:
        stop.set()
        thread.join(timeout=60)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Backup written to {tmp_path / f'during{SUFFIX}'} (")
    verified = cli(live, "backup", "verify", str(tmp_path / f"during{SUFFIX}"))
    assert verified.exit_code == 0, verified.output
    lines = verified.output.splitlines()
    assert lines[0] == "Integrity check: ok"
    assert lines[1] == f"Schema revision: {head_revision()}"
    assert lines[2].startswith("Records: ") and "1 checkpoints, 0 users, 0 complaints" in lines[2]
    assert "Audit trail: OK 1 checkpoints; the latest" in verified.output
    assert lines[-1] == "Backup verified."
    events_in_backup = int(lines[2].split("Records: ")[1].split()[0])
    assert 5 <= events_in_backup <= event_count(live)


def test_a_backup_of_a_truncated_trail_does_not_verify(live, tmp_path):
    with live.extensions["loop_db"].engine.begin() as connection:
        tampering.run(connection, "DELETE FROM audit_event WHERE id > 3")
    path = tmp_path / f"truncated{SUFFIX}"
    assert cli(live, "backup", "create", str(path)).exit_code == 0
    result = cli(live, "backup", "verify", str(path))
    assert result.exit_code == 1
    assert "Audit trail: TRUNCATED: checkpoint #1 of " in result.output
    assert result.output.splitlines()[-1] == "Backup does NOT verify."


def test_the_published_checkpoints_catch_a_backup_whose_checkpoints_were_removed(live, tmp_path):
    with live.extensions["loop_db"].engine.begin() as connection:
        tampering.run(connection, "DELETE FROM audit_event WHERE id > 3")
        tampering.bypass_triggers(connection, "audit_checkpoint")
        connection.execute(tampering.CHECKPOINTS.delete())
    path = tmp_path / f"scrubbed{SUFFIX}"
    assert cli(live, "backup", "create", str(path)).exit_code == 0
    assert cli(live, "backup", "verify", str(path)).exit_code == 0  # alone, it cannot tell
    result = cli(
        live, "backup", "verify", str(path), "--checkpoints", str(tmp_path / "published.jsonl")
    )
    assert result.exit_code == 1
    assert "TRUNCATED" in result.output


def test_restore_refuses_a_database_with_data_and_replaces_it_with_force(live, tmp_path):
    path = tmp_path / f"before{SUFFIX}"
    assert cli(live, "backup", "create", str(path)).exit_code == 0
    before = event_count(live)
    add_sites(live, 3, prefix="Later")
    refused = cli(live, "backup", "restore", str(path))
    assert refused.exit_code == 1
    assert refused.output.strip() == (
        "Error: The database holds data; nothing was restored. Restoring replaces all of it: "
        "repeat with --force if that is what you want."
    )
    assert event_count(live) == before + 3
    restored = cli(live, "backup", "restore", str(path), "--force")
    assert restored.exit_code == 0, restored.output
    assert event_count(live) == before
    result = cli(live, "audit", "verify")
    assert result.exit_code == 0, result.output
    assert "OK 1 checkpoints" in result.output
    with live.app_context():
        assert db.session.scalar(select(func.count()).select_from(Site)) == 5


@pytest.fixture()
def empty_url(databases, live):
    """An empty database to restore into. On PostgreSQL a new database beside the live one (a dump
    keeps its schema's name), dropped afterwards."""
    if not is_postgres():
        yield databases.new_url()
        return
    target = services.pg_target(live.config["DATABASE_URL"])
    name = f"loop_restore_{uuid.uuid4().hex[:8]}"
    admin = create_engine(target.sqlalchemy_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield target.with_database(name).sqlalchemy_url()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_restore_into_an_empty_database(live, empty_url, tmp_path):
    path = tmp_path / f"copy{SUFFIX}"
    assert cli(live, "backup", "create", str(path)).exit_code == 0
    empty = create_app(
        {
            "DATABASE_URL": empty_url,
            "AUDIT_SIGNING_KEY_FILE": live.config["AUDIT_SIGNING_KEY_FILE"],
            "AUDIT_CHECKPOINT_PUBLISH": live.config["AUDIT_CHECKPOINT_PUBLISH"],
        }
    )
    try:
        result = cli(empty, "backup", "restore", str(path))
        assert result.exit_code == 0, result.output
        assert event_count(empty) == event_count(live)
        assert cli(empty, "audit", "verify").exit_code == 0
    finally:
        empty.extensions["loop_db"].engine.dispose()


def test_bad_input_is_one_line(live, tmp_path, monkeypatch):
    result = cli(live, "backup", "verify", str(tmp_path / "missing.dump"))
    assert result.exit_code == 1
    assert (
        result.output.strip() == f"Error: There is no backup file at {tmp_path / 'missing.dump'}."
    )
    (tmp_path / "notes.txt").write_text("hello")
    result = cli(live, "backup", "verify", str(tmp_path / "notes.txt"))
    assert "is neither a SQLite backup nor a pg_dump custom-format file" in result.output
    (tmp_path / f"taken{SUFFIX}").write_text("x")
    result = cli(live, "backup", "create", str(tmp_path / f"taken{SUFFIX}"))
    assert result.exit_code == 1 and "exists already" in result.output


def test_missing_postgresql_client_tools_are_named(live, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools-here"))
    monkeypatch.setitem(
        live.config, "DATABASE_URL", "postgresql+psycopg://root@127.0.0.1:5432/test"
    )
    result = cli(live, "backup", "create", str(tmp_path / "x.dump"))
    assert result.exit_code == 1
    assert result.output.strip() == (
        "Error: pg_dump was not found: install the PostgreSQL client tools (for example "
        "`apt-get install postgresql-client`) in a version at least the server's."
    )
    assert not list(tmp_path.glob("*x.dump*"))


def test_the_nightly_job_keeps_the_newest_backups(live, tmp_path):
    from app.backups.jobs import NIGHTLY_BACKUP
    from app.scheduler.runner import ensure_job_row

    folder = tmp_path / "nightly"
    first = datetime(2026, 12, 1, 2, 30, tzinfo=UTC)
    with live.app_context():
        ensure_job_row(NIGHTLY_BACKUP).settings_json = '{"keep": 3}'
        db.session.commit()
        runs = [run_job("nightly-backup", first + timedelta(days=day)) for day in range(4)]
    assert [run.status for run in runs] == [JobRunStatus.SUCCEEDED] * 4, [r.error for r in runs]
    assert [run.counts["deleted"] for run in runs] == [0, 0, 0, 1]
    assert runs[-1].counts["bytes"] > 0
    names = sorted(path.name for path in folder.iterdir())
    assert names == [f"loop-backup-202612{day:02d}T023000Z{SUFFIX}" for day in (2, 3, 4)]
    result = cli(live, "backup", "verify", str(folder / names[-1]))
    assert result.exit_code == 0, result.output
