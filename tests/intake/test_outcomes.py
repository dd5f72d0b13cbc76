"""Source outcomes (timely response, dispute, public response, region) through the import: a small
fixture of real consumer-finance export rows (tests/data/cfpb_outcomes_sample.csv, see its README)
with the shipped mapping docs/mappings/cfpb.json, and the State column of the real Comcast file."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from app.complaints.models import Channel, Complaint, ComplaintStatus
from app.core.errors import ServiceError
from app.intake import services
from app.intake.mapping import suggest_fields
from app.intake.models import ImportStatus
from app.metrics.kpis import Scope, complaint_figures
from app.metrics.services import KPIS
from tests.intake.conftest import COMCAST, COMCAST_MAPPING, REPO, mapping_of

CFPB = REPO / "tests" / "data" / "cfpb_outcomes_sample.csv"
CFPB_MAPPING = REPO / "docs" / "mappings" / "cfpb.json"
PUBLIC = (
    "Company has responded to the consumer and the CFPB and chooses not to provide a public "
    "response"
)


def _by_id(session, source: str) -> dict[str, Complaint]:
    rows = session.scalars(select(Complaint).where(Complaint.source_system == source))
    return {complaint.external_id: complaint for complaint in rows}


def test_the_consumer_finance_outcomes_arrive_field_by_field(session, run_import) -> None:
    job = run_import(CFPB, mapping_of(CFPB_MAPPING))

    assert job.status is ImportStatus.COMPLETED
    assert (job.imported_count, job.rejected_count) == (7, 0)
    got = _by_id(session, "cfpb")
    outcomes = {
        key: (c.timely_response, c.disputed, c.public_response, c.region) for key, c in got.items()
    }
    assert outcomes == {
        "3384392": (True, None, None, "FL"),
        "3379500": (True, None, PUBLIC, "PA"),
        "3486776": (True, None, None, "CA"),
        "467801": (True, False, None, "VA"),
        "475823": (True, False, None, "CT"),
        "468882": (True, False, None, "VA"),
        "480488": (True, True, None, "CA"),
    }
    citibank = got["480488"]
    assert citibank.title == "Loan modification,collection,foreclosure"
    assert citibank.received_at == datetime(2013, 7, 29, tzinfo=UTC)
    assert citibank.channel is Channel.REFERRAL  # "Submitted via" Referral
    assert citibank.status is ComplaintStatus.CLOSED
    assert got["3486776"].status is ComplaintStatus.INVESTIGATING
    assert got["468882"].received_at == datetime(2013, 7, 29, tzinfo=UTC)  # 07/29/2013
    assert got["468882"].product_or_service == "Consumer Loan / Vehicle loan"


def test_the_two_rates_match_a_hand_count_of_the_file(session, run_import) -> None:
    run_import(CFPB, mapping_of(CFPB_MAPPING))
    with CFPB.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    timely = [row["Timely response?"] for row in rows]
    disputed = [row["Consumer disputed?"] for row in rows if row["Consumer disputed?"] != "N/A"]
    # By hand: 7 of 7 timely; of the 4 rows that say (3 are N/A), 1 was disputed.
    assert (timely.count("Yes"), len(timely)) == (7, 7)
    assert (disputed.count("Yes"), len(disputed)) == (1, 4)

    scope = Scope.between(date(2013, 1, 1), date(2020, 12, 31))
    figures = complaint_figures(scope)
    assert (figures.timely, figures.timely_known) == (7, 7)
    assert (figures.disputed, figures.dispute_known) == (1, 4)
    assert KPIS["timely_response_rate"].format(figures.timely_response_rate) == "100.0 %"
    assert KPIS["dispute_rate"].format(figures.dispute_rate) == "25.0 %"
    # Only the 2019–2020 rows: every dispute outcome is N/A, so the rate is unknown, not 0 %.
    recent = complaint_figures(Scope.between(date(2019, 1, 1), date(2020, 12, 31)))
    assert recent.dispute_known == 0
    assert recent.dispute_rate is None
    assert KPIS["dispute_rate"].format(recent.dispute_rate) == "–"


def test_a_value_that_is_not_yes_or_no_rejects_the_row_only(session, run_import) -> None:
    content = CFPB.read_bytes().replace(b",Yes,No,468882", b",Maybe,No,468882")
    job = run_import(CFPB, mapping_of(CFPB_MAPPING), content=content)

    assert job.status is ImportStatus.COMPLETED
    assert (job.imported_count, job.rejected_count) == (6, 1)
    [rejection] = services.rejections(job)
    assert rejection.row_number == 7  # the file's line, the header being line 1
    assert "Timely response (yes/no) “Maybe” is not known" in rejection.reason
    assert "468882" not in _by_id(session, "cfpb")


def test_a_value_map_may_translate_other_words(session, run_import) -> None:
    definition = mapping_of(CFPB_MAPPING)
    definition["fields"]["timely_response"] = {
        "column": "Timely response?",
        "values": {"Maybe": "unknown"},
    }
    content = CFPB.read_bytes().replace(b",Yes,No,468882", b",Maybe,No,468882")
    job = run_import(CFPB, definition, content=content)

    assert (job.imported_count, job.rejected_count) == (7, 0)
    assert _by_id(session, "cfpb")["468882"].timely_response is None


def test_a_value_map_to_a_word_that_is_not_a_flag_is_refused(session, run_import) -> None:
    definition = mapping_of(CFPB_MAPPING)
    definition["fields"]["disputed"] = {"column": "Consumer disputed?", "values": {"Y": "maybe"}}
    job = services.create_job("cfpb.csv", CFPB.read_bytes(), user=None)
    with pytest.raises(ServiceError, match="which is not one of yes, no, unknown"):
        services.set_mapping(job, definition, user=None)


def test_the_guesses_map_the_real_consumer_finance_columns() -> None:
    with CFPB.open(encoding="utf-8", newline="") as handle:
        columns = next(csv.reader(handle))
    guess = suggest_fields(columns)
    assert guess["timely_response"] == "Timely response?"
    assert guess["disputed"] == "Consumer disputed?"
    assert guess["public_response"] == "Company public response"
    assert guess["region"] == "State"
    assert guess.get("status") != "State"


def test_the_comcast_state_column_becomes_the_region(session, run_import) -> None:
    run_import(COMCAST, mapping_of(COMCAST_MAPPING))
    with COMCAST.open(encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["Ticket #"] != "comcas"]
    expected = Counter(row["State"].strip() for row in rows)
    got = Counter(c.region for c in _by_id(session, "comcast").values())
    assert got == expected
    assert got["Georgia"] == expected["Georgia"] > 100
    # The file says nothing of timeliness or disputes: both stay unknown.
    figures = complaint_figures(Scope.between(date(2015, 4, 1), date(2015, 6, 30)))
    assert (figures.timely_known, figures.dispute_known) == (0, 0)
