"""Signed checkpoints: taken by the command and the scheduler job, stored and published (file,
directory, e-mail), verified from the database or from an exported file with only the public key,
shown on the auditor's verify page and printed in audit-trail extracts."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.audit import checkpoints
from app.audit.models import AuditCheckpoint
from app.core.audit import acting_as
from app.extensions import db
from app.organisation.models import Site
from app.scheduler.models import JobRunStatus
from app.scheduler.runner import run_now
from tests import factories
from tests.reports.conftest import read_pdf
from tests.scheduler.smtp import smtp_server


@pytest.fixture()
def trail(databases, tmp_path):
    app = databases.new_migrated_app(
        AUDIT_SIGNING_KEY_FILE=str(tmp_path / "keys" / "signing.pem"),
        AUDIT_CHECKPOINT_PUBLISH=str(tmp_path / "published.jsonl"),
    )
    add_sites(app, 3)
    return app


def add_sites(app, count: int, prefix: str = "C") -> None:
    with app.app_context(), acting_as("system:test"):
        start = db.session.query(Site).count()
        for n in range(start, start + count):
            db.session.add(Site(code=f"{prefix}{n}", name=f"Checkpoint site {n}"))
        db.session.commit()


def cli(app, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def test_the_command_signs_stores_and_publishes_the_head(trail, tmp_path):
    result = cli(trail, "audit", "checkpoint")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Checkpoint 1: 3 events, head ")
    assert f"published to file {tmp_path / 'published.jsonl'}" in result.output
    key_file = tmp_path / "keys" / "signing.pem"
    assert key_file.exists() and oct(key_file.stat().st_mode & 0o777) == "0o600"
    with trail.app_context():
        row = db.session.scalar(select(AuditCheckpoint))
        head = db.session.execute(
            select(checkpoints.AuditEvent.id, checkpoints.AuditEvent.hash)
            .order_by(checkpoints.AuditEvent.id.desc())
            .limit(1)
        ).one()
    assert (row.event_count, row.head_event_id, row.head_hash) == (3, head.id, head.hash)
    assert row.created_by == "system:cli"
    published = [
        json.loads(line) for line in (tmp_path / "published.jsonl").read_text().splitlines()
    ]
    assert len(published) == 1 and published[0]["head_hash"] == head.hash
    public_key = checkpoints.load_signing_key(trail.config).public_key()
    assert checkpoints.Checkpoint.from_json(json.dumps(published[0])).signature_valid(public_key)
    # A second checkpoint covers the events written since.
    add_sites(trail, 2)
    assert cli(trail, "audit", "checkpoint").output.startswith("Checkpoint 2: 5 events")
    assert len((tmp_path / "published.jsonl").read_text().splitlines()) == 2


def test_an_external_auditor_verifies_with_only_the_file_and_the_public_key(trail, tmp_path):
    cli(trail, "audit", "checkpoint")
    add_sites(trail, 1)
    cli(trail, "audit", "checkpoint")
    exported = tmp_path / "for-the-auditor.jsonl"
    assert cli(trail, "audit", "export-checkpoints", str(exported)).exit_code == 0
    public_pem = cli(trail, "audit", "public-key").output
    assert public_pem.startswith("-----BEGIN PUBLIC KEY-----")
    (tmp_path / "audit.pub").write_text(public_pem)
    # The auditor's host has no signing key at all (production settings, none configured).
    trail.config.update(ENV_NAME="production", AUDIT_SIGNING_KEY_FILE="")
    result = cli(
        trail,
        "audit",
        "verify",
        "--checkpoints",
        str(exported),
        "--public-key",
        str(tmp_path / "audit.pub"),
    )
    assert result.exit_code == 0, result.output
    assert "OK 2 checkpoints; the latest" in result.output and "covers 4 events" in result.output
    # Another key than the one that signed them: every checkpoint is refused.
    other = tmp_path / "other.pem"
    checkpoints.generate_key_file(other)
    (tmp_path / "other.pub").write_text(
        checkpoints.public_key_pem(
            checkpoints.load_signing_key({"AUDIT_SIGNING_KEY_FILE": str(other)}).public_key()
        )
    )
    result = cli(
        trail,
        "audit",
        "verify",
        "--checkpoints",
        str(exported),
        "--public-key",
        str(tmp_path / "other.pub"),
    )
    assert result.exit_code == 1
    assert result.output.count("BAD SIGNATURE") == 2


def test_a_missing_or_broken_checkpoint_file_is_one_line(trail, tmp_path):
    result = cli(trail, "audit", "verify", "--checkpoints", str(tmp_path / "nope.jsonl"))
    assert result.exit_code == 1
    assert (
        result.output.strip()
        == f"Error: There is no checkpoint file or directory at {tmp_path / 'nope.jsonl'}."
    )
    (tmp_path / "bad.jsonl").write_text("not json\n")
    result = cli(trail, "audit", "verify", "--checkpoints", str(tmp_path / "bad.jsonl"))
    assert result.exit_code == 1
    assert "bad.jsonl line 1 is not a checkpoint" in result.output


def test_production_refuses_to_sign_without_a_key_file(trail, tmp_path):
    trail.config.update(ENV_NAME="production", AUDIT_SIGNING_KEY_FILE="")
    result = cli(trail, "audit", "checkpoint")
    assert result.exit_code == 1
    assert "AUDIT_SIGNING_KEY_FILE is not set: production needs the checkpoint signing key" in (
        result.output
    )
    trail.config["AUDIT_SIGNING_KEY_FILE"] = str(tmp_path / "absent.pem")
    result = cli(trail, "audit", "checkpoint")
    assert result.exit_code == 1
    assert (
        f"The checkpoint signing key {tmp_path / 'absent.pem'} (AUDIT_SIGNING_KEY_FILE) "
        "does not exist" in result.output
    )
    assert not (tmp_path / "absent.pem").exists()
    with trail.app_context():
        assert db.session.scalar(select(AuditCheckpoint)) is None
    # With a key generated by the command, production signs.
    assert cli(trail, "audit", "generate-key", str(tmp_path / "absent.pem")).exit_code == 0
    assert cli(trail, "audit", "checkpoint").exit_code == 0
    again = cli(trail, "audit", "generate-key", str(tmp_path / "absent.pem"))
    assert again.exit_code == 1 and "a signing key is never overwritten" in again.output


def test_a_directory_gets_one_file_per_checkpoint(trail, tmp_path):
    folder = tmp_path / "witness"
    folder.mkdir()
    trail.config["AUDIT_CHECKPOINT_PUBLISH"] = str(folder)
    cli(trail, "audit", "checkpoint")
    add_sites(trail, 1)
    cli(trail, "audit", "checkpoint")
    assert sorted(path.name for path in folder.iterdir()) == [
        "checkpoint-00000001.json",
        "checkpoint-00000002.json",
    ]
    assert cli(trail, "audit", "verify", "--checkpoints", str(folder)).exit_code == 0


def test_the_checkpoint_is_mailed_to_the_witness(trail):
    with smtp_server() as (inbox, port):
        trail.config.update(
            MAIL_SERVER="127.0.0.1", MAIL_PORT=port, AUDIT_CHECKPOINT_EMAIL="auditor@example.com"
        )
        result = cli(trail, "audit", "checkpoint")
    assert result.exit_code == 0, result.output
    assert "e-mail auditor@example.com" in result.output
    (message,) = inbox.messages
    assert message.recipients == ["auditor@example.com"]
    assert message.message["Subject"] == "Audit checkpoint 1: 3 events"
    body = message.message.get_payload(decode=True).decode()
    line = body.strip().splitlines()[-1]
    with trail.app_context():
        row = db.session.scalar(select(AuditCheckpoint))
    assert json.loads(line)["signature"] == row.signature
    assert f"Head hash:      {row.head_hash}" in body


def test_an_unreachable_mail_server_keeps_the_checkpoint(trail):
    from tests.scheduler.smtp import free_port

    trail.config.update(
        MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), AUDIT_CHECKPOINT_EMAIL="a@example.com"
    )
    result = cli(trail, "audit", "checkpoint")
    assert result.exit_code == 0
    assert "The checkpoint could not be e-mailed to a@example.com" in result.output
    with trail.app_context():
        assert db.session.scalar(select(AuditCheckpoint.event_count)) == 3


def test_the_scheduler_job_takes_a_checkpoint(trail):
    with trail.app_context():
        run = run_now("audit-checkpoint", None)
        assert run.status == JobRunStatus.SUCCEEDED, run.error
        # The job row itself is audited when the scheduler first sees the job: event 4.
        assert run.counts == {"checkpoint": 1, "events": 4, "emailed": 0, "emails_sent": 0}
        row = db.session.scalar(select(AuditCheckpoint))
        assert row.created_by == "system:audit-checkpoint"


def test_no_checkpoint_is_signed_over_a_tampered_trail(trail):
    from tests.audit import tampering

    cli(trail, "audit", "checkpoint")
    with trail.extensions["loop_db"].engine.begin() as connection:
        tampering.run(connection, "DELETE FROM audit_event WHERE id = 3")
    result = cli(trail, "audit", "checkpoint")
    assert result.exit_code == 1
    assert "No checkpoint signed. TRUNCATED: checkpoint #1 of " in result.output
    add_sites(trail, 1)  # the chain goes on from event 2, hiding nothing from the next check
    with trail.extensions["loop_db"].engine.begin() as connection:
        tampering.run(connection, "UPDATE audit_event SET actor = 'x' WHERE id = 1")
    result = cli(trail, "audit", "checkpoint")
    assert result.exit_code == 1


def _auditor_client(app):
    with app.app_context():
        factories.create_user("auditor", email="reader@example.com")
        db.session.commit()
    client = app.test_client()
    client.post("/login", data={"email": "reader@example.com", "password": factories.TEST_PASSWORD})
    return client


def test_the_verify_page_shows_the_last_checkpoint_and_its_age(trail):
    client = _auditor_client(trail)
    page = client.get("/audit/verify").get_data(as_text=True)
    assert "No checkpoint has been signed yet" in page
    cli(trail, "audit", "checkpoint")
    with trail.app_context():
        row = db.session.scalar(select(AuditCheckpoint))
    page = client.get("/audit/verify").get_data(as_text=True)
    assert "Matches all 1 checkpoints." in page
    assert f"#{row.id}, {row.created_at:%Y-%m-%d %H:%M:%S} UTC" in page
    assert "less than a minute ago" in page
    assert row.head_hash in page, page[page.find("last-checkpoint") :][:1500]
    assert f"{row.event_count} (up to event {row.head_event_id})" in page


def test_the_verify_page_names_a_truncation(trail):
    from tests.audit import tampering

    client = _auditor_client(trail)
    cli(trail, "audit", "checkpoint")
    with trail.extensions["loop_db"].engine.begin() as connection:
        tampering.run(connection, "DELETE FROM audit_event WHERE id >= 3")
    page = client.get("/audit/verify").get_data(as_text=True)
    assert "The trail does not match its checkpoints." in page
    assert "TRUNCATED: checkpoint #1 of" in page


def test_ages_read_as_a_person_says_them():
    from app.audit.services import describe_age

    assert describe_age(timedelta(seconds=20)) == "less than a minute"
    assert describe_age(timedelta(minutes=1)) == "1 minute"
    assert describe_age(timedelta(hours=3, minutes=5)) == "3 hours 5 minutes"
    assert describe_age(timedelta(days=2, hours=1)) == "2 days 1 hour"


def test_the_audit_extract_prints_the_checkpoint_that_covers_it(trail):
    client = _auditor_client(trail)
    with trail.app_context():
        today = db.session.scalar(select(checkpoints.AuditEvent.occurred_at)).date().isoformat()
    url = f"/reports/audit-trail.pdf?date_from={today}&date_to={today}"
    pdf = read_pdf(client.get(url).data)
    assert "No signed checkpoint exists yet" in pdf.flat
    cli(trail, "audit", "checkpoint")
    pdf = read_pdf(client.get(url).data)
    data = pdf.data()
    with trail.app_context():
        row = db.session.scalar(select(AuditCheckpoint))
    assert data["checkpoint"]["id"] == row.id and data["checkpoint"]["covered"] is True
    assert f"covered by signed checkpoint #{row.id}" in pdf.flat
    assert f"Head hash signed {row.head_hash}" in pdf.flat
    # Events written after it are not covered, and the extract says so.
    add_sites(trail, 1)
    pdf = read_pdf(client.get(url).data)
    assert (
        f"No signed checkpoint covers these events yet (the latest, #{row.id}, ends at event "
        in pdf.flat
    )
