"""Importing the two real public files (tests/data) with the shipped mappings (docs/mappings):
what a person checking the import would look at."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import func, select

from app.complaints.models import Channel, Complaint, ComplaintStatus, Severity
from app.core.audit import AuditAction, AuditEvent
from app.intake import services
from app.intake.models import ImportStatus
from app.organisation.models import Customer
from tests.intake.conftest import (
    COMCAST,
    COMCAST_MAPPING,
    SERVICENOW,
    SERVICENOW_MAPPING,
    mapping_of,
)


def _complaints(session, source: str) -> dict[str, Complaint]:
    rows = session.scalars(select(Complaint).where(Complaint.source_system == source))
    return {complaint.external_id: complaint for complaint in rows}


def test_comcast_takes_every_row_but_the_broken_ticket_id(session, run_import) -> None:
    job = run_import(COMCAST, mapping_of(COMCAST_MAPPING))

    assert job.status is ImportStatus.COMPLETED
    assert (job.imported_count, job.duplicate_count, job.rejected_count) == (2223, 0, 1)
    [rejection] = services.rejections(job)
    assert rejection.row_number == 1036
    assert "“comcas” does not match" in rejection.reason
    complaints = _complaints(session, "comcast")
    assert len(complaints) == 2223
    assert "comcas" not in complaints


def test_comcast_channels_statuses_and_dates_are_read_right(session, run_import) -> None:
    run_import(COMCAST, mapping_of(COMCAST_MAPPING))
    complaints = _complaints(session, "comcast")

    channels = Counter(c.channel for c in complaints.values())
    # The file has 1,119 phone and 1,105 internet rows; the rejected `comcas` row was by phone.
    assert channels == {Channel.PHONE: 1118, Channel.WEB_FORM: 1105}
    statuses = Counter(c.status for c in complaints.values())
    assert statuses == {
        ComplaintStatus.RESOLVED: 973,  # Solved
        ComplaintStatus.CLOSED: 733,  # Closed (734, less the `comcas` row)
        ComplaintStatus.RECEIVED: 363,  # Open
        ComplaintStatus.INVESTIGATING: 154,  # Pending
    }
    assert {c.severity for c in complaints.values()} == {Severity.MEDIUM}
    # DD-MM-YY with a 12-hour time column: 22-04-15 at 3:53:50 PM.
    assert complaints["250635"].received_at == datetime(2015, 4, 22, 15, 53, 50, tzinfo=UTC)
    # YYYY-MM-DD in the same column: 2015-04-08 (Date_month_year wrongly says 04-Aug-15).
    assert complaints["223441"].received_at == datetime(2015, 4, 8, 10, 22, 56, tzinfo=UTC)
    months = Counter(c.received_at.month for c in complaints.values())
    assert months == {4: 544, 5: 399, 6: 1280}  # April 545 less the `comcas` row
    assert all(c.received_at.year == 2015 for c in complaints.values())
    assert complaints["250635"].reference.startswith("CMP-2015-")
    # A title with doubled quotes survives the CSV quoting.
    assert complaints["362791"].title.startswith('Comcast sold me a "package"')
    assert "City: Abingdon" in complaints["250635"].description


def test_comcast_times_the_file_does_not_give_stay_unknown(session, run_import) -> None:
    """The Comcast file has no response, resolution or closure times: they stay unknown (never
    the received time, which reads as a zero duration), and so does first-contact resolution."""
    run_import(COMCAST, mapping_of(COMCAST_MAPPING))
    complaints = list(_complaints(session, "comcast").values())
    assert {c.first_response_at for c in complaints} == {None}
    assert {c.resolved_at for c in complaints} == {None}
    assert {c.closed_at for c in complaints} == {None}
    assert {c.first_response_seconds for c in complaints} == {None}
    assert {c.resolution_seconds for c in complaints} == {None}
    assert {c.first_contact_resolution for c in complaints} == {None}


def test_a_second_import_duplicates_nothing(session, run_import) -> None:
    run_import(COMCAST, mapping_of(COMCAST_MAPPING))
    again = run_import(COMCAST, mapping_of(COMCAST_MAPPING))

    assert (again.imported_count, again.duplicate_count, again.rejected_count) == (0, 2223, 1)
    count = session.scalar(
        select(func.count()).select_from(Complaint).where(Complaint.source_system == "comcast")
    )
    assert count == 2223


def test_all_or_nothing_imports_nothing_when_one_row_is_bad(session, run_import) -> None:
    job = run_import(COMCAST, mapping_of(COMCAST_MAPPING), "all_or_nothing")

    assert job.status is ImportStatus.FAILED
    assert job.imported_count == 0 and job.rejected_count == 1
    assert "nothing was imported" in job.message
    assert _complaints(session, "comcast") == {}


def test_every_imported_complaint_is_in_the_audit_trail(session, run_import) -> None:
    job = run_import(COMCAST, mapping_of(COMCAST_MAPPING))
    created = session.scalars(
        select(AuditEvent).where(
            AuditEvent.record_type == "complaint", AuditEvent.action == AuditAction.CREATE
        )
    ).all()
    assert len(created) == 2223
    assert {event.reason for event in created} == {
        f"Imported from comcast_telecom_complaints.csv (import {job.id})"
    }


def test_servicenow_event_log_becomes_one_complaint_per_incident(session, run_import) -> None:
    job = run_import(SERVICENOW, mapping_of(SERVICENOW_MAPPING))

    assert job.file_rows == 5998
    assert job.total == 890
    assert (job.imported_count, job.duplicate_count, job.rejected_count) == (890, 0, 0)
    complaints = _complaints(session, "servicenow")
    assert len(complaints) == 890
    # Every incident ends with its Closed row, so every complaint is closed.
    assert {c.status for c in complaints.values()} == {ComplaintStatus.CLOSED}
    assert {c.channel for c in complaints.values()} == {Channel.PHONE}
    severities = Counter(c.severity for c in complaints.values())
    assert severities == {
        Severity.MEDIUM: 757,
        Severity.LOW: 85,
        Severity.HIGH: 33,
        Severity.CRITICAL: 15,
    }
    first = complaints["INC0000045"]
    assert first.received_at == datetime(2016, 2, 29, 1, 16, tzinfo=UTC)  # DD-MM-YYYY HH:MM
    assert first.resolved_at == datetime(2016, 2, 29, 11, 29, tzinfo=UTC)
    assert first.closed_at == datetime(2016, 3, 5, 12, 0, tzinfo=UTC)
    assert first.title == "Category 55 / Subcategory 170: Symptom 72"
    # No symptom (`?`): the title ends with the subcategory, not a dangling colon.
    assert complaints["INC0000066"].title == "Category 55 / Subcategory 185"
    # `?` means empty: no "?" leaks into the text.
    assert all("?" not in c.description for c in complaints.values())
    opened = {c.received_at.date().isoformat() for c in complaints.values()}
    assert min(opened) == "2016-02-29" and max(opened) == "2016-03-02"


def test_servicenow_incidents_without_a_resolution_time_were_resolved_when_closed(
    session, run_import
) -> None:
    with open(SERVICENOW, newline="", encoding="utf-8") as handle:
        last = {row["number"]: row for row in csv.DictReader(handle)}
    unresolved = sorted(number for number, row in last.items() if row["resolved_at"] == "?")
    assert len(unresolved) == 29
    run_import(SERVICENOW, mapping_of(SERVICENOW_MAPPING))
    complaints = _complaints(session, "servicenow")
    for number in unresolved:
        complaint = complaints[number]
        assert complaint.resolved_at == complaint.closed_at
        assert complaint.first_response_at == complaint.resolved_at


def test_servicenow_callers_become_customers_and_repeat_callers_are_one_customer(
    session, run_import
) -> None:
    run_import(SERVICENOW, mapping_of(SERVICENOW_MAPPING))
    complaints = _complaints(session, "servicenow")
    per_customer = Counter(c.customer_id for c in complaints.values())
    assert None not in per_customer
    assert max(per_customer.values()) == 13  # the README's repeat caller
    busiest = session.get(Customer, per_customer.most_common(1)[0][0])
    assert busiest.name.startswith("Caller ")
    again = run_import(SERVICENOW, mapping_of(SERVICENOW_MAPPING))
    assert (again.imported_count, again.duplicate_count) == (0, 890)
    assert session.scalar(select(func.count()).select_from(Customer)) == len(per_customer)
