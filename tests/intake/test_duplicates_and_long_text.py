"""Duplicates are recognised by (source system, external id) before anything else is checked;
external ids that several rows give with different values are reported; a long narrative is
stored whole; the source's tags and company response arrive as their own fields. On the real
Comcast and ServiceNow files and small fixtures of real consumer-finance rows
(tests/data/cfpb_outcomes_sample.csv, tests/data/cfpb_tags_sample.csv)."""

from __future__ import annotations

import csv
import io

from sqlalchemy import func, select

from app.complaints.models import Channel, Complaint, ComplaintStatus
from app.extensions import db
from app.intake import services
from app.intake.rows import CONFLICTS_SHOWN
from app.organisation.models import Category
from tests.intake.conftest import (
    COMCAST,
    COMCAST_MAPPING,
    REPO,
    SERVICENOW,
    SERVICENOW_MAPPING,
    mapping_of,
)

CFPB = REPO / "tests" / "data" / "cfpb_outcomes_sample.csv"
CFPB_TAGS = REPO / "tests" / "data" / "cfpb_tags_sample.csv"
CFPB_MAPPING = REPO / "docs" / "mappings" / "cfpb.json"


def _import(name: str, content: bytes, definition: dict) -> tuple[int, int]:
    """Import in one go (as the CLI does); (imported, rejected)."""
    job = services.create_job(name, content, user=None)
    services.set_mapping(job, definition, user=None)
    services.start_job(job, "skip_bad_rows", user=None)
    services.run_to_end(job)
    return job.imported_count, job.rejected_count


def _by_external_id(source: str) -> dict[str, Complaint]:
    found = db.session.scalars(select(Complaint).where(Complaint.source_system == source))
    return {complaint.external_id: complaint for complaint in found}


def test_a_reimport_counts_duplicates_even_where_the_names_no_longer_resolve(
    session, run_import
) -> None:
    """First import creates the categories; they are renamed since. The same file with a mapping
    that rejects unknown categories finds every ticket a duplicate: nothing is rejected for a
    name, only the "comcas" row whose id the pattern refuses."""
    definition = mapping_of(COMCAST_MAPPING)
    definition["fields"]["category"] = {"column": "Received Via", "if_missing": "create"}
    first = run_import(COMCAST, definition)
    assert (first.imported_count, first.rejected_count) == (2223, 1)
    for category in session.scalars(select(Category)):
        category.name = f"{category.name} (renamed)"
    session.commit()

    definition["fields"]["category"] = {"column": "Received Via"}  # unknown names: reject
    again = run_import(COMCAST, definition)
    assert (again.imported_count, again.duplicate_count, again.rejected_count) == (0, 2223, 1)
    assert [r.reason for r in services.rejections(again)] == [
        "External id (ticket number) “comcas” does not match the pattern \\d+."
    ]
    # The preview says the same: duplicates, not "There is no category named …".
    job = services.create_job(COMCAST.name, COMCAST.read_bytes(), user=None)
    services.set_mapping(job, definition, user=None)
    rows = services.preview(job)
    assert all(row.duplicate and row.reason is None for row in rows)
    assert rows[0].external_id == "250635"


def test_ids_on_several_rows_that_disagree_are_reported(session, run_import) -> None:
    """The ServiceNow log read without grouping: every incident's rows share its number but differ
    (state, update time…). Only the first row of each is imported; the job names them."""
    definition = mapping_of(SERVICENOW_MAPPING)
    definition.pop("group_by")
    with SERVICENOW.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    used = ["number", "incident_state", "sys_updated_at", "opened_at", "resolved_at", "closed_at"]
    by_number: dict[str, set[tuple[str, ...]]] = {}
    for row in rows:
        by_number.setdefault(row["number"], set()).add(tuple(row[c] for c in used))
    disagreeing = sorted(number for number, seen in by_number.items() if len(seen) > 1)
    assert len(by_number) == 890 and len(disagreeing) > 800

    job = run_import(SERVICENOW, definition)
    assert job.conflict_count == len(disagreeing)
    shown = job.conflict_list
    assert len(shown) == CONFLICTS_SHOWN
    first = shown[0]
    lines = [index + 2 for index, row in enumerate(rows) if row["number"] == first["external_id"]]
    assert first["rows"] == lines
    assert "incident_state" in first["columns"]
    assert job.imported_count == 890 - job.rejected_count
    assert job.duplicate_count == len(rows) - 890
    assert f"{len(disagreeing):,} external ids are on several rows that disagree." in job.message


def test_identical_repeated_rows_are_duplicates_without_a_conflict(session, run_import) -> None:
    text = COMCAST.read_text(encoding="utf-8")
    header, first_row = text.splitlines()[:2]
    content = "\n".join([header, first_row, first_row, ""]).encode()
    job = run_import("twice.csv", mapping_of(COMCAST_MAPPING), content=content)
    assert (job.imported_count, job.duplicate_count, job.conflict_count) == (1, 1, 0)


def test_a_long_real_narrative_is_stored_whole_and_shown_folded(client, login, committed) -> None:
    """A consumer-finance complaint with a narrative longer than any limit a form had (45,000
    characters, the real first row's narrative repeated) imports whole."""
    with CFPB.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        columns = reader.fieldnames
        row = next(reader)
    paragraph = row["Consumer complaint narrative"]
    narrative = "\n".join([paragraph] * (45_000 // len(paragraph) + 1))[:45_000]
    assert len(narrative) == 45_000
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns)
    writer.writeheader()
    writer.writerow({**row, "Consumer complaint narrative": narrative})

    content = buffer.getvalue().encode()
    assert committed(_import, "long.csv", content, mapping_of(CFPB_MAPPING)) == (1, 0)
    complaint = committed(_by_external_id, "cfpb")["3384392"]
    assert complaint.description.startswith("Consumer complaint narrative: " + paragraph)
    assert narrative in complaint.description  # whole, not cut

    login("quality_lead")
    page = client.get(f"/complaints/{complaint.reference}").get_data(as_text=True)
    assert 'data-testid="description-rest"' in page
    assert "characters in all)" in page
    head, rest = page.split('data-testid="description-rest"', 1)
    assert paragraph[:60] in head and paragraph[:60] in rest


def test_tags_and_company_response_are_their_own_fields(client, login, committed) -> None:
    imported = committed(_import, CFPB_TAGS.name, CFPB_TAGS.read_bytes(), mapping_of(CFPB_MAPPING))
    assert imported == (2, 0)
    got = committed(_by_external_id, "cfpb")
    assert (got["3298636"].tags, got["3298636"].company_response) == (
        "Servicemember",
        "Closed with explanation",
    )
    assert (got["3298806"].tags, got["3298806"].company_response) == (None, "In progress")
    assert got["3298636"].status is ComplaintStatus.CLOSED
    assert "Tags:" not in got["3298636"].description  # no longer a line of the description

    login("quality_lead")
    page = client.get(f"/complaints/{got['3298636'].reference}").get_data(as_text=True)
    assert 'data-testid="tags">Servicemember<' in page
    assert 'data-testid="company-response">Closed with explanation<' in page


def test_referral_and_fax_are_channels(session, run_import) -> None:
    job = run_import(CFPB, mapping_of(CFPB_MAPPING))
    assert job.imported_count == 7
    channels = dict(
        session.execute(
            select(Complaint.external_id, Complaint.channel).where(
                Complaint.source_system == "cfpb"
            )
        ).all()
    )
    assert channels["480488"] is Channel.REFERRAL  # "Submitted via" Referral
    assert channels["3486776"] is Channel.EMAIL
    fax = Complaint(
        reference="CMP-T-FAX1",
        title="By fax",
        received_at=session.scalar(select(func.min(Complaint.received_at))),
        channel=Channel.FAX,
        severity="medium",
    )
    session.add(fax)
    session.flush()
    assert session.scalar(select(Complaint.channel).where(Complaint.id == fax.id)) is Channel.FAX
