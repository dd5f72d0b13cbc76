"""The stored durations (`first_response_seconds`, `resolution_seconds`) that the time KPIs read
stay in step with the timestamps through every way a complaint's times are written."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from app.complaints.models import Complaint, complaint_durations, seconds_between
from app.core.db import utcnow
from app.extensions import db
from tests.complaints.factories import new_complaint, walk


def stored(complaint: Complaint) -> tuple[int | None, int | None]:
    """The durations as the database holds them (not the ORM's copy)."""
    db.session.flush()
    return (
        db.session.execute(
            select(Complaint.first_response_seconds, Complaint.resolution_seconds).where(
                Complaint.id == complaint.id
            )
        )
        .one()
        ._tuple()
    )


def from_times(complaint: Complaint) -> tuple[int | None, int | None]:
    return (
        seconds_between(complaint.first_response_at, complaint.received_at),
        seconds_between(complaint.resolved_at, complaint.received_at),
    )


def test_seconds_between_rounds_to_the_nearest_second_and_keeps_none() -> None:
    start = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    assert seconds_between(start + timedelta(hours=2, microseconds=499_999), start) == 7200
    assert seconds_between(start + timedelta(hours=2, microseconds=500_000), start) == 7201
    assert seconds_between(None, start) is None
    assert seconds_between(start, None) is None
    assert complaint_durations(start, None, start + timedelta(days=3)) == {
        "first_response_seconds": None,
        "resolution_seconds": 3 * 86400,
    }


def test_every_transition_keeps_the_stored_durations_in_step(session, make_user) -> None:
    lead = make_user("quality_lead")
    complaint = new_complaint(lead, received_at=utcnow() - timedelta(days=3, minutes=7))
    assert stored(complaint) == (None, None)

    walk(complaint, lead, "acknowledge")
    response = stored(complaint)
    assert response == from_times(complaint)
    assert (
        response[0] is not None and 3 * 86400 + 7 * 60 - 5 <= response[0] <= 3 * 86400 + 7 * 60 + 5
    )
    assert response[1] is None

    walk(complaint, lead, "investigate", "resolve")
    assert stored(complaint) == from_times(complaint)
    assert stored(complaint)[1] is not None

    walk(complaint, lead, "close", "reopen", reason="The customer called again")
    assert stored(complaint) == (response[0], None)  # first response kept, resolution cleared

    walk(complaint, lead, "investigate", "resolve")
    assert stored(complaint) == from_times(complaint) and stored(complaint)[1] is not None


def test_resolving_at_first_contact_stores_one_duration_for_both(session, make_user) -> None:
    lead = make_user("quality_lead")
    complaint = new_complaint(lead, received_at=utcnow() - timedelta(hours=5))
    walk(complaint, lead, "resolve")
    first_response, resolution = stored(complaint)
    assert first_response == resolution == from_times(complaint)[1]
    assert 5 * 3600 - 5 <= resolution <= 5 * 3600 + 5


def test_the_migration_backfills_the_durations_from_the_times(databases) -> None:
    """Downgrade to the revision before the columns existed, write complaints with random times
    (microseconds included), upgrade: the backfill equals what the app computes."""
    app = databases.new_migrated_app()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["db", "downgrade", "c04a4f531d80"])  # before the durations
    assert result.exit_code == 0, result.output
    rng = random.Random(4)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    rows = []
    for number in range(400):
        received = base + timedelta(
            seconds=rng.randrange(300 * 86400), microseconds=rng.randrange(10**6)
        )
        responded = received + timedelta(seconds=rng.uniform(0, 5 * 86400)) if number % 5 else None
        resolved = (
            responded + timedelta(seconds=rng.uniform(0, 40 * 86400))
            if responded is not None and number % 3
            else None
        )
        rows.append((received, responded, resolved))
    with app.app_context():
        # Only the columns the older schema has: the insert names them one by one.
        table = Complaint.__table__
        for number, (received, responded, resolved) in enumerate(rows):
            db.session.execute(
                insert(table).values(
                    reference=f"CMP-2026-{number:06d}",
                    title="Backfill",
                    description="",
                    received_at=received,
                    channel="email",
                    severity="low",
                    status="resolved" if resolved else "acknowledged" if responded else "received",
                    product_or_service="",
                    escalation_level=0,
                    first_response_at=responded,
                    resolved_at=resolved,
                    first_contact_resolution=False,
                    csat_comment="",
                    retention_status="unknown",
                    created_at=received,
                    updated_at=received,
                    version=1,
                )
            )
        db.session.commit()
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        found = db.session.execute(
            select(
                Complaint.received_at,
                Complaint.first_response_at,
                Complaint.resolved_at,
                Complaint.first_response_seconds,
                Complaint.resolution_seconds,
            ).order_by(Complaint.reference)
        ).all()
    assert len(found) == 400
    for received, responded, resolved, response_seconds, resolution_seconds in found:
        assert response_seconds == seconds_between(responded, received)
        assert resolution_seconds == seconds_between(resolved, received)
    assert sum(row[3] is None for row in found) == sum(row[1] is None for row in rows)
