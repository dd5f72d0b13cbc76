"""The audit trail as a person reads it: labels, names of referenced records (as named at the
time), enum labels, money with currency, times to the second, bookkeeping folded away; the same
rules on the record page, the log, its CSV export. Stored events and their hashes do not change."""

from __future__ import annotations

import csv
import io
import re
from html import unescape

from sqlalchemy import select

from app.complaints import services as complaint_services
from app.core.audit import AuditAction, AuditEvent, PendingEvent, append_events, verify_chain
from app.core.audit_display import readable_events
from app.core.db import utcnow
from app.extensions import db
from app.nonconformities import services as nc_services
from app.organisation.models import Category, Customer, CustomerSegment
from tests import factories
from tests.capa.factories import make_complaint


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def history_panel(html: str) -> str:
    match = re.search(r'<section class="card history-panel".*?</section>', html, re.S)
    assert match, "no history panel on the page"
    return text_of(match[0])


def complaint_story(app) -> dict:
    """A complaint edited by a lead: reassigned, customer and category changed, a refund given,
    linked to a nonconformity; afterwards the first customer is renamed and a category deleted."""
    with app.app_context():
        lead = factories.create_user("quality_lead", full_name="Quinn Lead")
        other = factories.create_user("contributor", full_name="Casey Contributor")
        acme = Customer(name="Acme Ltd", segment=CustomerSegment.ENTERPRISE)
        beta = Customer(name="Beta plc", segment=CustomerSegment.CONSUMER)
        billing, gone = Category(name="Billing error"), Category(name="Short-lived category")
        db.session.add_all([acme, beta, billing, gone])
        db.session.flush()
        complaint = complaint_services.record_complaint(
            user=lead,
            title="Charged twice",
            channel="email",
            severity="medium",
            customer_id=acme.id,
            category_id=gone.id,
        )
        complaint_services.assign_complaint(complaint, other.id, user=lead)
        complaint_services.update_complaint(
            complaint,
            user=lead,
            title=complaint.title,
            description="",
            product_or_service="",
            customer_id=beta.id,
            process_id=None,
            category_id=billing.id,
            severity="high",
            channel="email",
            expected_version=complaint.version,
        )
        complaint_services.add_recovery_action(
            complaint, user=lead, kind="refund", amount="25.50", currency="EUR"
        )
        nc = nc_services.raise_nonconformity(
            user=lead,
            title="Double charges",
            source="customer_complaint",
            detected_at=utcnow(),
            severity=5,
            occurrence=4,
            detection=3,
            complaint_ids=[complaint.id],
        )
        beta.name = "Beta Group plc"  # renamed after the edit
        db.session.flush()
        db.session.commit()
        return {"complaint": complaint.reference, "complaint_id": complaint.id, "nc": nc.reference}


def test_the_record_page_history_reads_as_labels_and_names(app, client, login) -> None:
    story = complaint_story(app)
    login("quality_lead")
    panel = history_panel(client.get(f"/complaints/{story['complaint']}").get_data(as_text=True))
    assert "Assignee Casey Contributor" in panel
    assert "Customer Acme Ltd → Beta plc" in panel  # as named then, not "Beta Group plc"
    assert "Beta Group plc" not in panel
    assert "Category Short-lived category → Billing error" in panel
    assert "Severity Medium → High" in panel
    assert "Amount 25.50 EUR" in panel
    assert "Recovery Refund" in panel and "Done by Quinn Lead" in panel
    for raw in ("assignee id", "customer id", "category id", "done by id", "complaint id"):
        assert raw not in panel.lower()
    # Times in the product's format: no microseconds, no ISO "T".
    assert not re.search(r"\d{2}:\d{2}:\d{2}\.\d{6}", panel)
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:", panel)
    # Bookkeeping is folded into a closed <details>, not listed among the changes.
    html = client.get(f"/complaints/{story['complaint']}").get_data(as_text=True)
    assert '<details class="audit-bookkeeping' in html
    nc_panel = history_panel(client.get(f"/nonconformities/{story['nc']}").get_data(as_text=True))
    assert f"Complaints added {story['complaint']}" in nc_panel


def test_old_events_fall_back_to_current_names_and_say_when_a_record_is_gone(session) -> None:
    customer = Customer(name="Acme Ltd", segment=CustomerSegment.ENTERPRISE)
    session.add(customer)
    session.flush()
    complaint = make_complaint()
    # Events written before names were stored: ids only, links as [ids before, ids after].
    append_events(
        session.connection(),
        [
            PendingEvent(
                AuditAction.UPDATE,
                "complaint",
                str(complaint.id),
                {"customer_id": [None, customer.id], "category_id": [987654, None]},
            ),
            PendingEvent(AuditAction.UPDATE, "capa", "424242", {"principles": [["1"], ["1", "3"]]}),
        ],
    )
    events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(2)))
    capa_event, complaint_event = readable_events(events)
    lines = complaint_event.lines()
    assert "Customer: Acme Ltd" in lines
    assert "Category: Category 987654 (no longer exists) → empty" in lines
    assert capa_event.lines()[0].startswith("TQM principles: added ")
    assert capa_event.record_label == "CAPA 424242"


def test_names_for_a_whole_page_are_looked_up_in_one_query(app, session, count_queries) -> None:
    categories = [Category(name=f"Queried category {n}") for n in range(6)]
    session.add_all(categories)
    session.flush()
    append_events(
        session.connection(),
        [
            PendingEvent(
                AuditAction.UPDATE,
                "complaint",
                str(n),
                {"category_id": [categories[n].id, categories[n + 1].id], "assignee_id": [n, None]},
            )
            for n in range(5)
        ],
    )
    events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(5)))
    for event in events:
        event.changes_dict  # noqa: B018  (parse outside the measurement)
    assert count_queries(lambda: readable_events(events)) == 1
    assert (
        readable_events(events)[0].lines()[0] == "Category: Queried category 4 → Queried category 5"
    )


def test_the_log_names_records_by_reference_and_lists_types_by_label(app, client, login) -> None:
    story = complaint_story(app)
    login("auditor")
    page = client.get("/audit").get_data(as_text=True)
    filter_select = re.search(r'<select[^>]*id="record_type".*?</select>', page, re.S)[0]
    options = re.findall(r'<option[^>]*value="([^"]*)"[^>]*>([^<]*)</option>', filter_select)
    labels = dict(options)
    assert labels["complaint"] == "Complaint"
    assert labels["recovery_action"] == "Recovery action"
    assert labels["nonconformity"] == "Nonconformity"
    assert all(label != value or value == "" for value, label in options if "_" in value)
    text = text_of(page)
    assert story["complaint"] in text
    assert f"complaint {story['complaint_id']}" not in text
    one = text_of(
        client.get(f"/audit?record_type=complaint&record_id={story['complaint_id']}").get_data(
            as_text=True
        )
    )
    assert f"Showing only the events of {story['complaint']}" in one


def test_the_csv_export_of_the_log_reads_as_the_page_does(app, client, login) -> None:
    story = complaint_story(app)
    login("auditor")
    response = client.get(
        f"/audit/export.csv?record_type=complaint&record_id={story['complaint_id']}"
    )
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    header, body = rows[0], rows[1:]
    assert header[:7] == [
        "Event",
        "When (UTC)",
        "Actor",
        "Action",
        "Record type",
        "Record",
        "Changes",
    ]
    assert {row[5] for row in body} == {story["complaint"]}
    changes = "\n".join(row[6] for row in body)
    assert "Customer: Acme Ltd → Beta plc" in changes
    assert "Severity: Medium → High" in changes
    assert "customer_id" not in changes
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", row[1]) for row in body)
    with app.app_context():
        export = db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == AuditAction.EXPORT)
            .order_by(AuditEvent.id.desc())
        ).first()
        assert export.record_type == "audit_event"


def test_reading_changes_no_stored_event(app, client, login) -> None:
    complaint_story(app)
    with app.app_context():
        before = [(e.id, e.changes, e.hash) for e in db.session.scalars(select(AuditEvent))]
    login("auditor")
    client.get("/audit")
    client.get("/audit/export.csv")
    with app.app_context():
        after = [(e.id, e.changes, e.hash) for e in db.session.scalars(select(AuditEvent))]
        assert after[: len(before)] == before
        assert verify_chain(db.session.connection()).ok
