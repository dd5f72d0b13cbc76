"""Full-text search over complaints: reference, title, narrative, external id and customer name,
kept current by the database on every write path, on the list page and in the API."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert

from app.complaints import listing as complaint_listing
from app.complaints import services
from app.complaints.models import Complaint
from app.extensions import db
from app.organisation import services as organisation
from tests.complaints.factories import new_complaint, new_customer
from tests.factories import create_user
from tests.organisation.pages import page_text

NARRATIVE = (
    "I was charged twice for the same flight 😡.\n"
    "Called the contact centre on Monday,\r\nthen again on Thursday — nobody refunded me.\n\n"
    "Booking code: XK7-42Q"
)


@pytest.fixture()
def lead(session):
    return create_user("quality_lead")


def found(query: str) -> list[str]:
    return [
        db.session.get(Complaint, complaint_id).title
        for complaint_id in complaint_listing.search_complaints(query)
    ]


def test_search_reads_narrative_external_id_and_customer_with_every_word(lead):
    customer = new_customer("Grace Hopper")
    new_complaint(
        lead,
        title="Double charge",
        description=NARRATIVE,
        customer_id=customer.id,
        source_system="cfpb",
        external_id="CFPB-3141592",
    )
    new_complaint(lead, title="Lost bag", description="The bag never arrived in Thursday's flight")

    assert found("refunded") == ["Double charge"]  # a word of the multi-line narrative
    assert found("THURSDAY nobody") == ["Double charge"]  # across its lines, any case
    assert sorted(found("flight")) == ["Double charge", "Lost bag"]
    assert found("flight bag") == ["Lost bag"]  # every word must match
    assert found("hopper") == ["Double charge"]  # the customer's name
    assert found("CFPB-3141592") == ["Double charge"]  # the external id as typed
    assert found("3141592") == ["Double charge"]
    assert found("xk7") == ["Double charge"]
    assert found("refund") == []  # whole words, no stemming


@pytest.mark.parametrize(
    ("query", "matches"),
    [
        ('"', False),
        ("'", False),
        ('"refunded', True),
        ("NEAR(flight", False),  # "near" is not in the text: a word, not an operator
        ("flight OR", False),
        ("flight*", True),
        ("*", False),
        ("^charged", True),
        ("title:flight", False),
        ("charged:flight", True),  # both words are in the narrative, no column filter
        ("😡", False),
        ("", False),
        ("  ", False),
    ],
)
def test_search_syntax_typed_by_a_user_is_only_words(lead, query, matches):
    new_complaint(lead, title="Double charge", description=NARRATIVE)
    assert found(query) == (["Double charge"] if matches else [])
    statement, _ = complaint_listing.complaint_list_query(
        complaint_listing.ComplaintFilters(text=query)
    )
    db.session.scalars(statement).all()  # never an error


def test_the_index_follows_edits_renames_and_inserts_that_bypass_the_orm(lead):
    customer = new_customer("Ada Lovelace")
    complaint = new_complaint(lead, title="Router broken", customer_id=customer.id)
    services.update_complaint(
        complaint,
        user=lead,
        title="Modem broken",
        description="Replaced under warranty",
        product_or_service="",
        customer_id=customer.id,
        process_id=None,
        category_id=None,
        severity="medium",
        channel="email",
        expected_version=complaint.version,
    )
    db.session.flush()
    assert found("router") == []
    assert found("modem warranty") == ["Modem broken"]

    organisation.update_customer(
        customer,
        name="Ada King",
        segment=customer.segment,
        annual_value=customer.annual_value,
        customer_since=customer.customer_since,
        active=True,
        expected_version=customer.version,
    )
    db.session.flush()
    assert found("lovelace") == []
    assert found("king") == ["Modem broken"]

    # A bulk insert (as seeding or a fast import would do) is indexed by the database itself.
    row = {
        "reference": "CMP-2020-999999",
        "title": "Seeded narrative",
        "description": "Bulk loaded ✈️ baggage claim",
        "received_at": datetime(2020, 1, 2, tzinfo=UTC),
        "channel": "email",
        "severity": "low",
        "status": "received",
        "product_or_service": "",
        "escalation_level": 0,
        "csat_comment": "",
        "retention_status": complaint.retention_status,
        "version": 1,
        "created_at": datetime(2020, 1, 2, tzinfo=UTC),
        "updated_at": datetime(2020, 1, 2, tzinfo=UTC),
    }
    db.session.execute(insert(Complaint), [row])
    assert found("baggage claim") == ["Seeded narrative"]


def test_the_list_filter_is_the_full_text_search_or_the_exact_reference(lead):
    wanted = new_complaint(lead, title="100% wrong bill", description="Invoice shows roaming fees")
    new_complaint(lead, title="Router keeps rebooting")

    def titles(text: str) -> list[str]:
        statement, _ = complaint_listing.complaint_list_query(
            complaint_listing.ComplaintFilters(text=text)
        )
        return [c.title for c in db.session.scalars(statement)]

    assert titles("roaming") == ["100% wrong bill"]  # from the narrative
    assert titles(f"  {wanted.reference.lower()} ") == ["100% wrong bill"]
    assert titles("reboot") == []  # whole words only


def test_the_list_page_searches_counts_and_keeps_q_in_its_links(client, login, committed):
    lead = login("quality_lead")

    def create():
        for number in range(3):
            new_complaint(lead, title=f"Complaint {number}", description="Seat broken on row 12")
        new_complaint(lead, title="Other", description="Meal was cold")

    committed(create)
    response = client.get("/complaints?q=seat+broken&sort=reference")
    page = page_text(response)
    assert response.status_code == 200
    assert "3 complaints matching the filters" in page
    assert "Meal" not in page and "Other" not in page
    links = re.findall(r'href="(/complaints\?[^"]*sort=-reference[^"]*)"', page)
    assert links and all("q=seat" in link for link in links)
    for bad in ('"', "NEAR(", "\x00", "😡", "a" * 201):
        response = client.get("/complaints", query_string={"q": bad})
        assert response.status_code in (200, 422), bad
        assert "Traceback" not in page_text(response)
