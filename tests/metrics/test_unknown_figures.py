"""Unknown is not zero: KPIs whose inputs are missing are shown as "–", never as 0.

The data is a real-shaped slice of the Comcast export (tests/data/comcast_sample.csv: 16 rows of
the public file, two of every status and date style, and the broken `comcas` ticket). The file has
no response, resolution or closure times and says nothing about first-contact resolution, so the
time KPIs and the first-contact resolution rate of its complaints are unknown: on the dashboard,
in its CSV and in the quality review pack.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from app.complaints.models import Complaint
from app.extensions import db
from app.intake import services as intake
from app.metrics import services
from app.metrics.kpis import Scope, complaint_figures
from tests.reports.conftest import read_pdf

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "tests" / "data" / "comcast_sample.csv"
MAPPING = REPO / "docs" / "mappings" / "comcast.json"
QUARTER = Scope.between(date(2015, 4, 1), date(2015, 6, 30))
UNKNOWN_KPIS = (
    "response_mean_hours",
    "response_median_hours",
    "resolution_mean_days",
    "resolution_median_days",
    "resolution_p90_days",
    "first_contact_resolution_rate",
    "timely_response_rate",
    "dispute_rate",
)


def import_sample() -> None:
    job = intake.create_job(SAMPLE.name, SAMPLE.read_bytes(), user=None)
    intake.set_mapping(job, json.loads(MAPPING.read_text(encoding="utf-8")), user=None)
    intake.start_job(job, "skip_bad_rows", user=None)
    intake.run_to_end(job)
    assert (job.imported_count, job.rejected_count) == (15, 1)


def test_figures_without_their_inputs_are_unknown(session) -> None:
    import_sample()
    figures = complaint_figures(QUARTER)

    assert figures.complaints == 15
    assert (figures.responded, figures.resolved, figures.first_contact_known) == (0, 0, 0)
    assert figures.response_mean_hours is None and figures.response_median_hours is None
    assert figures.resolution_mean_days is None and figures.resolution_p90_days is None
    assert figures.first_contact_resolution_rate is None
    board = services.dashboard(QUARTER)
    shown = {tile.kpi.key: tile.kpi.format(tile.value) for tile in board.tiles}
    assert {key: shown[key] for key in UNKNOWN_KPIS} == dict.fromkeys(UNKNOWN_KPIS, "–")
    assert shown["complaints"] == "15"
    rows = {row[0]: row for row in services.tile_rows(board)}
    for key in UNKNOWN_KPIS:
        assert rows[key][3:] == ("–", "–", "–"), key
    # None in the quarter before: a count of 0 is known; the change from 0 is not.
    assert rows["complaints"][3:] == ("15", "0", "–")


def test_unknown_times_do_not_dilute_the_known_ones(session) -> None:
    """A complaint resolved here (at the first contact, after 2 days) beside the imported ones:
    the rates and times are its own; the imported resolved complaints are neither misses nor
    zero durations, and they stay resolved for the recovery groups."""
    import_sample()
    received = QUARTER.start + timedelta(days=10)
    db.session.add(
        Complaint(
            reference="CMP-T-KNOWN1",
            title="Known times",
            received_at=received,
            channel="phone",
            severity="medium",
            status="resolved",
            first_response_at=received + timedelta(hours=3),
            resolved_at=received + timedelta(days=2),
            first_contact_resolution=True,
        )
    )
    db.session.flush()
    figures = complaint_figures(QUARTER)

    assert figures.complaints == 16
    assert figures.first_contact_resolution_rate == 1.0
    assert figures.response_mean_hours == pytest.approx(3.0)
    assert figures.resolution_mean_days == pytest.approx(2.0)
    assert figures.resolution_p90_days == pytest.approx(2.0)


def test_the_review_pack_shows_a_dash(client, login, committed) -> None:
    committed(import_sample)
    login("quality_lead")

    pack = client.get("/reports/quality-review.pdf?date_from=2015-04-01&date_to=2015-06-30")
    assert pack.status_code == 200, pack.get_data(as_text=True)[:300]
    flat = read_pdf(pack.data).flat
    assert "Complaints 15 0" in flat
    assert "Time to first response (mean) – –" in flat
    assert "Time to resolution (90th percentile) – –" in flat
    assert "First-contact resolution rate – –" in flat
    assert "Timely-response rate – –" in flat
    assert "Dispute rate – –" in flat
    assert "0.0 hours" not in flat and "0.0 days" not in flat
    data = read_pdf(pack.data).data()
    kpis = {kpi["key"]: kpi for kpi in data["kpis"]}
    for key in UNKNOWN_KPIS:
        assert kpis[key]["value"] is None and kpis[key]["shown"] == "–", key
