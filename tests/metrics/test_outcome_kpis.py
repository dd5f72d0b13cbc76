"""The timely-response and dispute rates where a user reads them (dashboard tile, KPI CSV, review
pack, complaint page), and the dispute outcome as a recovery failure where no CSAT exists. Data:
the real consumer-finance rows of tests/data/cfpb_outcomes_sample.csv (7 rows: 7 timely; 1 of 4
known dispute outcomes disputed, 3 N/A)."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select

from app.complaints.models import Complaint
from app.extensions import db
from app.intake import services as intake
from app.metrics import recovery
from app.metrics.kpis import Scope
from tests.reports.conftest import read_pdf

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "tests" / "data" / "cfpb_outcomes_sample.csv"
MAPPING = REPO / "docs" / "mappings" / "cfpb.json"
RANGE = "date_from=2013-01-01&date_to=2020-12-31"
PUBLIC = (
    "Company has responded to the consumer and the CFPB and chooses not to provide a public "
    "response"
)
ALL = Scope.between(date(2013, 1, 1), date(2020, 12, 31))


def import_sample() -> None:
    job = intake.create_job(SAMPLE.name, SAMPLE.read_bytes(), user=None)
    intake.set_mapping(job, json.loads(MAPPING.read_text(encoding="utf-8")), user=None)
    intake.start_job(job, "skip_bad_rows", user=None)
    intake.run_to_end(job)
    assert (job.imported_count, job.rejected_count) == (7, 0)


def test_the_rates_on_the_dashboard_csv_and_pack(client, login, committed) -> None:
    committed(import_sample)
    login("quality_lead")

    page = client.get(f"/?{RANGE}").get_data(as_text=True)
    assert 'data-testid="kpi-timely_response_rate">100.0 %<' in page
    assert 'data-testid="kpi-dispute_rate">25.0 %<' in page
    lines = client.get(f"/dashboard/kpis.csv?{RANGE}").get_data(as_text=True).splitlines()
    assert any(line.startswith("timely_response_rate,Timely-response rate,") for line in lines)
    [dispute] = [line for line in lines if line.startswith("dispute_rate,")]
    assert dispute.split(",")[3] == "0.25"  # the CSV holds the ratio
    pack = client.get(f"/reports/quality-review.pdf?{RANGE}")
    assert pack.status_code == 200
    kpis = {kpi["key"]: kpi for kpi in read_pdf(pack.data).data()["kpis"]}
    assert kpis["dispute_rate"]["shown"] == "25.0 %"
    assert kpis["timely_response_rate"]["shown"] == "100.0 %"


def test_the_complaint_page_shows_the_outcomes(client, login, committed) -> None:
    committed(import_sample)
    login("quality_lead")

    def find(external_id: str) -> str:
        return db.session.scalar(
            select(Complaint.reference).where(Complaint.external_id == external_id)
        )

    disputed = client.get(f"/complaints/{committed(find, '480488')}").get_data(as_text=True)
    assert 'data-testid="disputed">Disputed<' in disputed
    assert 'data-testid="timely-response">Yes<' in disputed
    assert 'data-testid="region">CA<' in disputed
    unknown = client.get(f"/complaints/{committed(find, '3379500')}").get_data(as_text=True)
    assert 'data-testid="disputed"><span class="text-muted">– (not known)' in unknown
    assert "chooses not to provide a public response" in unknown


def test_a_disputed_outcome_without_csat_is_a_recovery_failure(session) -> None:
    import_sample()
    # Six of the seven are closed (resolved) and none has a CSAT: before the rule, none of them
    # was in either recovery group; the one disputed (480488) now counts as not recovered, beside
    # the one still in progress (3486776).
    paradox = recovery.recovery_paradox(ALL)
    assert paradox.group("recovered").size == 0
    assert paradox.group("not_recovered").size == 2
    # A CSAT, where there is one, decides: rated 5 it is recovered although disputed.
    complaint = session.scalar(select(Complaint).where(Complaint.external_id == "480488"))
    complaint.csat_score = 5
    complaint.csat_recorded_at = complaint.received_at + timedelta(days=3)
    session.flush()
    paradox = recovery.recovery_paradox(ALL)
    assert (paradox.group("recovered").size, paradox.group("not_recovered").size) == (1, 1)


def test_the_complaint_list_csv_carries_the_outcomes(client, login, committed) -> None:
    committed(import_sample)
    login("quality_lead")

    text = client.get("/complaints/export.csv").get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    assert header[-4:] == [
        "Timely response",
        "Disputed",
        "Company's public response",
        "Customer's region",
    ]
    outcomes = sorted(tuple(row[-4:]) for row in rows[1:])
    assert outcomes.count(("yes", "no", "", "VA")) == 2
    assert ("yes", "yes", "", "CA") in outcomes
    assert ("yes", "unknown", PUBLIC, "PA") in outcomes
    assert len(outcomes) == 7
