"""Constructed failure data for the scheduler tests: records placed in chosen weeks."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from app.complaints.models import Complaint
from app.extensions import db
from app.metrics import rollup
from app.nonconformities.models import Nonconformity, NonconformitySource
from app.organisation.models import Category, Process
from app.scheduler.recurrence import week_index, week_start

# A Wednesday noon; the review period is the 8 complete weeks before its week.
AS_OF = datetime(2026, 9, 16, 12, 0, tzinfo=UTC)
CURRENT_WEEK = week_index(AS_OF)
REVIEW_WEEKS = list(range(CURRENT_WEEK - 8, CURRENT_WEEK))
BASELINE_WEEKS = list(range(CURRENT_WEEK - 8 - 26, CURRENT_WEEK - 8))
_serial = itertools.count(1)


def add_complaints(process: Process, category: Category, times: list[datetime]) -> list[int]:
    """Insert complaints with the given receipt times (bulk, like the demo seed)."""
    rows = []
    for moment in times:
        number = next(_serial)
        rows.append(
            {
                "reference": f"TC-{number:07d}",
                "title": "Charged twice",
                "description": "",
                "received_at": moment,
                "channel": "email",
                "severity": "medium",
                "status": "received",
                "product_or_service": "",
                "process_id": process.id,
                "category_id": category.id,
                "escalation_level": 0,
                "first_contact_resolution": False,
                "csat_comment": "",
                "retention_status": "unknown",
                "version": 1,
            }
        )
    if rows:
        db.session.execute(insert(Complaint), rows)
    ids = list(
        db.session.scalars(
            Complaint.__table__.select()
            .with_only_columns(Complaint.id)
            .where(Complaint.reference.in_([row["reference"] for row in rows]))
        )
    )
    # A bulk insert bypasses the flush, so it counts itself into the dashboard's rollups.
    rollup.add_complaints(db.session.connection(), ids)
    return ids


def add_nonconformity(process: Process, category: Category, moment: datetime) -> Nonconformity:
    nc = Nonconformity(
        reference=f"TN-{next(_serial):07d}",
        title="Found in the process",
        source=NonconformitySource.PROCESS_MONITORING,
        process_id=process.id,
        category_id=category.id,
        detected_at=moment,
        severity=4,
        occurrence=4,
        detection=4,
    )
    db.session.add(nc)
    db.session.flush()
    return nc


def in_week(week: int, count: int) -> list[datetime]:
    """`count` times spread over the working days of `week`."""
    start = week_start(week)
    return [start + timedelta(hours=9 + (i % 8), days=i % 5) for i in range(count)]


def weekly(counts_by_week: dict[int, int]) -> list[datetime]:
    return [moment for week, count in counts_by_week.items() for moment in in_week(week, count)]
