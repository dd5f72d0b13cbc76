"""Rows whose file gives no resolution time (the real Comcast file's solved and closed tickets) keep
"time unknown": they count as resolved, stay out of the duration KPIs (mean, median, p90) and the
goal figures, and the import result says how many there are."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.complaints.models import Complaint, ComplaintStatus
from app.metrics.kpis import Scope, complaint_figures, resolved
from app.metrics.models import MetricGoal, TargetKind
from app.metrics.objectives import measure_goal
from tests.intake.conftest import COMCAST, COMCAST_MAPPING, mapping_of

QUARTER = Scope.between(date(2015, 4, 1), date(2015, 6, 30))


def _statuses() -> Counter:
    with COMCAST.open(encoding="utf-8", newline="") as handle:
        return Counter(row["Status"] for row in csv.DictReader(handle) if row["Ticket #"].isdigit())


def _goal(kpi: str) -> MetricGoal:
    return MetricGoal(
        kpi=kpi,
        baseline_start=date(2015, 4, 1),
        baseline_end=date(2015, 6, 30),
        target_kind=TargetKind.ABSOLUTE,
        target_value=Decimal("3"),
        deadline=date(2015, 12, 31),
    )


def test_the_real_comcast_file_keeps_its_resolution_times_unknown(session, run_import) -> None:
    statuses = _statuses()
    assert statuses == {"Solved": 973, "Closed": 733, "Open": 363, "Pending": 154}
    job = run_import(COMCAST, mapping_of(COMCAST_MAPPING))

    # Solved and Closed: resolved at a time the file does not give; Pending (investigating): a
    # first response at an unknown time. Open (received) implies no time.
    assert job.unknown_time_count == 973 + 733 + 154
    assert "1,860 with a response or resolution time the file does not give" in job.message
    resolved_count = session.scalar(select(func.count()).where(resolved()))
    assert resolved_count == 973 + 733
    timed = session.scalar(select(func.count()).where(Complaint.resolved_at.is_not(None)))
    assert timed == 0
    closed = session.scalars(select(Complaint).where(Complaint.status == ComplaintStatus.CLOSED))
    assert all(c.resolution_seconds is None and c.closed_at is None for c in closed)

    figures = complaint_figures(QUARTER)
    assert figures.complaints == 2223
    assert figures.resolved == 0  # resolutions with a known time
    assert figures.resolution_mean_days is None
    assert figures.resolution_median_days is None
    assert figures.resolution_p90_days is None
    # A goal on the resolution time has no baseline and no current value: unknown, not zero.
    progress = measure_goal(_goal("resolution_mean_days"), today=date(2015, 7, 31))
    assert progress.baseline is None and progress.current is None


def test_known_times_beside_the_comcast_file_are_measured_alone(session, run_import) -> None:
    run_import(COMCAST, mapping_of(COMCAST_MAPPING))
    received = datetime(2015, 5, 4, 9, 0, tzinfo=UTC)
    for days, reference in ((1, "CMP-T-KNOWN1"), (3, "CMP-T-KNOWN2"), (8, "CMP-T-KNOWN3")):
        session.add(
            Complaint(
                reference=reference,
                title="Resolved here",
                received_at=received,
                channel="phone",
                severity="medium",
                status="resolved",
                first_response_at=received + timedelta(hours=2),
                resolved_at=received + timedelta(days=days),
                first_contact_resolution=False,
            )
        )
    session.flush()

    figures = complaint_figures(QUARTER)
    assert figures.complaints == 2226
    assert figures.resolved == 3
    assert figures.resolution_mean_days == pytest.approx(4.0)
    assert figures.resolution_median_days == pytest.approx(3.0)
    assert figures.resolution_p90_days == pytest.approx(8.0)  # nearest rank ⌈0.9·3⌉ = 3
    assert figures.response_mean_hours == pytest.approx(2.0)
    progress = measure_goal(_goal("resolution_mean_days"), today=date(2015, 7, 31))
    assert progress.baseline == pytest.approx(4.0)
