"""The nonconformity register and the audit-trail extract, and the Reports page's bad input."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import update

from app.core.audit import AuditEvent
from app.core.db import utcnow
from app.core.references import next_reference
from app.extensions import db
from app.nonconformities.models import Nonconformity, NonconformitySource
from tests.reports.conftest import read_pdf

TODAY = utcnow().date()


def many_nonconformities(count: int, title: str = "Parcel left at the wrong door") -> list[str]:
    now = utcnow()
    references = []
    for number in range(count):
        nc = Nonconformity(
            reference=next_reference(db.session, "NC", now.year),
            title=f"{title} {number:04d}",
            source=NonconformitySource.PROCESS_MONITORING,
            detected_at=now - timedelta(minutes=number),
            severity=3,
            occurrence=2,
            detection=2,
        )
        db.session.add(nc)
        references.append(nc.reference)
    db.session.flush()
    return references


def test_the_register_repeats_its_header_on_every_page(client, login, committed):
    references = committed(many_nonconformities, 120)
    login("auditor")
    response = client.get("/reports/nonconformity-register.pdf?q=wrong+door&sort=reference")
    assert response.status_code == 200
    pdf = read_pdf(response.data)
    assert len(pdf.pages) >= 3
    header = "Reference Title Status Source Process Category Owner Detected (UTC) S × O × D = RPN"
    for number, page in enumerate(pdf.pages, start=1):
        flat_page = re.sub(r"\s+", " ", page)
        assert header in flat_page, f"no table header on page {number}"
        assert f"Page {number} of {len(pdf.pages)}" in flat_page
    flat = pdf.flat
    assert "120 nonconformities" in flat
    assert "Sorted: reference." in flat
    assert "Filters used Search: wrong door; Sort: Reference" in flat
    # Every row, in the list's order (sorted by reference), and landscape pages.
    found = re.findall(r"NC-\d{4}-\d{6}", flat)
    assert found == sorted(references)
    width, height = pdf.reader.pages[0].mediabox.width, pdf.reader.pages[0].mediabox.height
    assert width > height
    data = pdf.data()
    assert data["count"] == 120
    assert data["filters"] == [
        {"name": "Search", "value": "wrong door"},
        {"name": "Sort", "value": "Reference"},
    ]


def test_the_register_filters_as_the_list_does(client, login, committed, story):
    committed(many_nonconformities, 3)
    login("auditor")
    listed = client.get("/nonconformities?status=closed").get_data(as_text=True)
    assert story.nc in listed and 'data-testid="register-pdf"' in listed
    pdf = read_pdf(client.get("/reports/nonconformity-register.pdf?status=closed").data)
    assert re.findall(r"NC-\d{4}-\d{6}", pdf.flat) == [story.nc]
    assert "Status: Closed" in pdf.flat


def test_a_register_on_nothing_says_so(client, login):
    login("quality_lead")
    response = client.get("/reports/nonconformity-register.pdf?q=no+such+thing+anywhere")
    assert response.status_code == 200
    pdf = read_pdf(response.data)
    assert "No nonconformity matches these filters: the register is empty." in pdf.flat
    assert "Page 1 of 1" in pdf.flat
    assert pdf.data()["rows"] == []


def test_a_bad_register_filter_returns_the_form_with_errors(client, login):
    login("auditor")
    response = client.get(
        "/reports/nonconformity-register.pdf?detected_from=2026-05-02&detected_to=2026-05-01"
    )
    assert response.status_code == 422
    assert "The end date is before the start date." in response.get_data(as_text=True)
    response = client.get("/reports/nonconformity-register.pdf?status=sideways")
    assert response.status_code == 422
    assert "Not a valid choice" in response.get_data(as_text=True)


def test_the_audit_extract_of_a_record(app, client, login, story):
    login("auditor")
    response = client.get(f"/reports/audit-trail.pdf?reference={story.capa.lower()}")
    assert response.status_code == 200
    pdf = read_pdf(response.data)
    flat = pdf.flat
    data = pdf.data()
    events = data["events"]
    assert events and {event["record_type"] for event in events} == {"capa"}
    assert [event["id"] for event in events] == sorted(event["id"] for event in events)
    assert "Verified: the whole audit chain" in flat
    assert f"First hash of the extract {events[0]['hash']}" in flat
    assert f"Last hash of the extract {events[-1]['hash']}" in flat
    assert "Status: Effective → Closed" in flat
    assert f"Record: {story.capa}" in flat
    verification = data["verification"]
    assert verification["chain_ok"] and verification["extract_ok"]
    assert verification["mismatched_event_ids"] == []


def test_the_audit_extract_of_a_period_checks_its_links(client, login, story):
    login("auditor")
    today = TODAY.isoformat()
    pdf = read_pdf(client.get(f"/reports/audit-trail.pdf?date_from={today}&date_to={today}").data)
    data = pdf.data()
    ids = [event["id"] for event in data["events"]]
    assert ids == list(range(ids[0], ids[0] + len(ids)))  # consecutive: links are checked
    assert data["verification"]["links_checked"] is True
    assert data["verification"]["broken_link_event_ids"] == []
    assert "checked: consecutive events" in pdf.flat
    assert "Filters used From: " + today + "; To: " + today in pdf.flat


def test_a_tampered_event_shows_in_the_extract(app, client, login, story, committed):
    login("auditor")

    def tamper() -> None:
        # Around the triggers that refuse UPDATE, as an attacker with database access would (the
        # test's transaction is rolled back afterwards, triggers included).
        connection = db.session.connection()
        statement = (
            update(AuditEvent.__table__)
            .where(AuditEvent.__table__.c.record_type == "capa")
            .values(actor="mallory@example.com")
        )
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("ALTER TABLE audit_event DISABLE TRIGGER USER")
            connection.execute(statement)
            connection.exec_driver_sql("ALTER TABLE audit_event ENABLE TRIGGER USER")
        else:
            connection.exec_driver_sql("DROP TRIGGER audit_event_no_update")
            connection.execute(statement)

    committed(tamper)
    pdf = read_pdf(client.get(f"/reports/audit-trail.pdf?reference={story.capa}").data)
    assert "Verification FAILED." in pdf.flat
    verification = pdf.data()["verification"]
    assert verification["chain_ok"] is False
    assert verification["mismatched_event_ids"]


def test_an_extract_of_nothing_says_so(client, login):
    login("auditor")
    response = client.get("/reports/audit-trail.pdf?date_from=2001-01-01&date_to=2001-01-31")
    assert response.status_code == 200
    pdf = read_pdf(response.data)
    assert "No audit event matches this record and period: the extract is empty." in pdf.flat
    assert "recomputes without a break; this extract holds no event." in pdf.flat
    assert pdf.data()["count"] == 0


def test_bad_extract_input_returns_the_form_with_errors(client, login):
    login("auditor")
    cases = {
        "": "Choose a record, or a period with both a start and an end date.",
        "?date_from=2026-03-01": "Choose a record, or a period with both a start and an end date.",
        "?date_from=2026-03-02&date_to=2026-03-01": "The end date is before the start date.",
        "?date_from=yesterday&date_to=2026-03-01": "Not a valid date value.",
        "?reference=CAPA-1999-000001": "No complaint, nonconformity or CAPA has the reference",
        "?record_type=capa": "Give both the record type and the record id.",
    }
    for query, message in cases.items():
        response = client.get("/reports/audit-trail.pdf" + query)
        assert response.status_code == 422, query
        assert message in response.get_data(as_text=True), query


def test_the_reports_page_sends_a_reference_to_its_report(client, login, story):
    login("quality_lead")
    page = client.get("/reports")
    assert page.status_code == 200
    assert "Nonconformity register" in page.get_data(as_text=True)
    for reference, target in (
        (story.capa, f"/reports/capa/{story.capa}.pdf"),
        (story.nc, f"/reports/nonconformities/{story.nc}/8d.pdf"),
        (story.complaint, f"/reports/complaints/{story.complaint}/recovery.pdf"),
    ):
        response = client.get(f"/reports/record?record={reference}")
        assert response.status_code == 302 and response.headers["Location"].endswith(target)
    response = client.get("/reports/record?record=NC-1999-000001")
    assert response.status_code == 422
    assert "No complaint, nonconformity or CAPA has the reference" in response.get_data(
        as_text=True
    )
