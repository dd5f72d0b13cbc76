"""The customer pages: who may edit, parsing and refusals, edits, stale saves, history."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.core.audit import AuditAction, AuditEvent
from app.core.db import utcnow
from app.extensions import db
from app.organisation import services
from app.organisation.models import Customer
from tests.organisation.pages import is_marked_invalid, page_text


def new_customer(**overrides):
    values = {"name": "Northwind Traders", "segment": "enterprise", "annual_value": "1200"}
    return services.create_customer(**{**values, **overrides})


def edit_form(customer: Customer, **changes: str) -> dict[str, str]:
    form = {
        "name": customer.name,
        "segment": customer.segment.value,
        "annual_value": str(customer.annual_value),
        "customer_since": customer.customer_since.isoformat() if customer.customer_since else "",
        "active": "y" if customer.active else "",
        "version": str(customer.version),
    }
    return {**form, **changes}


def test_quality_lead_sees_new_button_and_edit_links(client, login, committed):
    customer = committed(new_customer)
    login("quality_lead")
    page = page_text(client.get("/customers"))
    assert 'href="/customers/new"' in page
    assert f'href="/customers/{customer.id}">Northwind Traders</a>' in page


def test_contributor_sees_customers_without_new_button_or_edit_links(client, login, committed):
    customer = committed(new_customer)
    login("contributor")
    page = page_text(client.get("/customers"))
    assert "Northwind Traders" in page
    assert "New customer" not in page and f"/customers/{customer.id}" not in page


def test_new_customer_form_offers_the_segments_by_label(client, login):
    login("quality_lead")
    page = page_text(client.get("/customers/new"))
    for label in ("Consumer", "Small business", "Enterprise", "Public sector"):
        assert f">{label}</option>" in page
    assert 'name="annual_value"' in page and 'value="0.00"' in page


def test_create_customer_then_see_it_on_the_list(client, login, count, fetch):
    login("quality_lead")
    response = client.post(
        "/customers/new",
        data={
            "name": "Harbour Dental Practice",
            "segment": "small_business",
            "annual_value": "12345.6",
            "customer_since": "2021-03-04",
            "active": "y",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/customers"
    page = page_text(client.get("/customers"))
    assert "Added the customer Harbour Dental Practice." in page
    assert "Small business" in page and "12,345.60" in page and "2021-03-04" in page
    assert count(Customer) == 1


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        ("annual_value", "-10", "The annual value cannot be negative."),
        ("annual_value", "lots", "Not a valid decimal value."),
        ("annual_value", "", "This field is required."),
        ("customer_since", "2021-02-30", "Not a valid date value."),
        ("segment", "galactic", "Not a valid choice."),
        ("name", "", "This field is required."),
    ],
)
def test_invalid_new_customer_comes_back_with_the_error_and_saves_nothing(
    client, login, count, field, typed, message
):
    login("quality_lead")
    data = {
        "name": "Typed name",
        "segment": "consumer",
        "annual_value": "10",
        "customer_since": "",
        "active": "y",
        field: typed,
    }
    response = client.post("/customers/new", data=data)
    page = page_text(response)
    assert response.status_code == 422
    assert message in page
    assert is_marked_invalid(page, field)
    if field != "name":
        assert 'value="Typed name"' in page
    if field == "annual_value" and typed:
        assert f'value="{typed}"' in page  # the typed text comes back, not a reformatted number
    assert count(Customer) == 0


def test_customer_since_in_the_future_is_refused(client, login, count):
    login("quality_lead")
    tomorrow = (utcnow().date() + timedelta(days=2)).isoformat()
    response = client.post(
        "/customers/new",
        data={
            "name": "Early bird",
            "segment": "consumer",
            "annual_value": "0",
            "customer_since": tomorrow,
        },
    )
    assert response.status_code == 422
    assert "The customer-since date cannot be in the future" in page_text(response)
    assert f'value="{tomorrow}"' in page_text(response)
    assert count(Customer) == 0


def test_edit_customer_saves_shows_on_the_list_and_lands_in_the_audit_trail(
    client, login, committed, fetch
):
    customer = committed(new_customer)
    lead = login("quality_lead")
    page = page_text(client.get(f"/customers/{customer.id}"))
    assert 'value="1200.00"' in page and '<option selected value="enterprise">' in page
    response = client.post(
        f"/customers/{customer.id}",
        data=edit_form(customer, annual_value="1500.25", segment="public_sector", active=""),
    )
    assert response.status_code == 302
    list_page = page_text(client.get("/customers"))
    assert "Saved the customer Northwind Traders." in list_page
    assert "1,500.25" in list_page and "Public sector" in list_page and "Inactive" in list_page
    stored = fetch(Customer, customer.id)
    assert (stored.annual_value, stored.active) == (Decimal("1500.25"), False)
    update = committed(
        lambda: db.session.scalar(
            select(AuditEvent).where(
                AuditEvent.record_type == "customer",
                AuditEvent.record_id == str(customer.id),
                AuditEvent.action == AuditAction.UPDATE,
            )
        )
    )
    assert update.actor == lead.email
    assert update.changes_dict == {
        "active": [True, False],
        "annual_value": ["1200.00", "1500.25"],
        # Made inactive: the day the customer left is recorded (churn and retention).
        "left_on": [None, utcnow().date().isoformat()],
        "segment": ["enterprise", "public_sector"],
    }
    history = page_text(client.get(f"/customers/{customer.id}"))
    assert "Updated" in history and "1,500.25" in history and "Public sector" in history


def test_invalid_customer_edit_saves_nothing(client, login, committed, fetch):
    customer = committed(new_customer)
    login("admin")
    response = client.post(
        f"/customers/{customer.id}",
        data=edit_form(customer, name="Renamed", annual_value="-1"),
    )
    assert response.status_code == 422
    assert "The annual value cannot be negative." in page_text(response)
    stored = fetch(Customer, customer.id)
    assert (stored.name, stored.annual_value) == ("Northwind Traders", Decimal("1200.00"))


def test_stale_customer_edit_is_refused_and_overwrites_nothing(client, login, committed, fetch):
    customer = committed(new_customer, customer_since=date(2020, 1, 1))
    login("quality_lead")
    opened = edit_form(customer)

    def colleague_saves() -> None:
        stored = db.session.get(Customer, customer.id)
        services.update_customer(
            stored,
            name=stored.name,
            segment=stored.segment,
            annual_value=Decimal("99"),
            customer_since=stored.customer_since,
            active=True,
            expected_version=stored.version,
        )

    committed(colleague_saves)
    response = client.post(f"/customers/{customer.id}", data={**opened, "annual_value": "5000"})
    page = page_text(response)
    assert response.status_code == 422
    assert "The customer Northwind Traders was changed by someone else since you opened it." in page
    assert f'href="/customers/{customer.id}">Reload the current version</a>' in page
    assert fetch(Customer, customer.id).annual_value == Decimal("99.00")


def test_missing_customer_is_404(client, login):
    login("quality_lead")
    assert client.get("/customers/999999").status_code == 404


def test_the_external_id_set_through_the_api_shows_on_the_pages(client, login, committed):
    known = committed(new_customer, external_id="CRM-00042")
    committed(new_customer, name="Walk-in customer")
    login("quality_lead")
    listing = page_text(client.get("/customers"))
    assert "<code>CRM-00042</code>" in listing
    assert listing.count("<code>") == 1  # the walk-in customer has none
    page = page_text(client.get(f"/customers/{known.id}"))
    assert 'data-testid="external-id">CRM-00042<' in page
    # Saving the form keeps it: the browser does not edit what other systems key on.
    response = client.post(f"/customers/{known.id}", data=edit_form(known, name="Northwind Ltd"))
    assert response.status_code == 302
    edited = page_text(client.get(f"/customers/{known.id}"))
    assert "Northwind Ltd" in edited and 'data-testid="external-id">CRM-00042<' in edited
