"""Customer rules: a known segment, a non-negative annual value, no future customer-since date."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.core.db import utcnow
from app.core.errors import ServiceError, StaleRecord
from app.organisation import services
from app.organisation.models import Customer, CustomerSegment

TODAY = date(2026, 11, 24)


def new_customer(**overrides):
    values = {"name": "Northwind Traders", "segment": "enterprise", "annual_value": "1200.50"}
    return services.create_customer(**{**values, **overrides})


def test_create_customer_stores_the_values(session):
    customer = new_customer(customer_since=date(2019, 5, 1), today=TODAY)
    session.expire_all()
    stored = session.get(Customer, customer.id)
    assert stored.name == "Northwind Traders"
    assert stored.segment is CustomerSegment.ENTERPRISE
    assert stored.annual_value == Decimal("1200.50")
    assert (stored.customer_since, stored.active) == (date(2019, 5, 1), True)


def test_annual_value_is_kept_to_the_cent_and_missing_means_zero(session):
    assert new_customer(annual_value=Decimal("75")).annual_value == Decimal("75.00")
    assert str(new_customer(annual_value=None).annual_value) == "0.00"


def test_two_customers_may_share_a_name(session):
    new_customer(name="J. Smith")
    assert new_customer(name="J. Smith").name == "J. Smith"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (Decimal("-0.01"), "The annual value cannot be negative."),
        ("-5", "The annual value cannot be negative."),
        (Decimal("10.005"), "at most two decimal places"),
        (Decimal("1000000000000"), "must be below 1,000,000,000,000"),
        (Decimal("NaN"), "The annual value must be a number."),
        (Decimal("Infinity"), "The annual value must be a number."),
        ("twelve", "The annual value must be a number."),
    ],
)
def test_create_customer_refuses_a_bad_annual_value(session, value, message):
    before = session.scalar(select(func.count()).select_from(Customer))
    with pytest.raises(ServiceError) as refused:
        new_customer(annual_value=value)
    assert refused.value.field == "annual_value"
    assert message in refused.value.message
    assert session.scalar(select(func.count()).select_from(Customer)) == before


def test_zero_is_a_valid_annual_value(session):
    assert new_customer(annual_value="0").annual_value == Decimal("0.00")


def test_create_customer_refuses_an_unknown_segment(session):
    with pytest.raises(ServiceError) as refused:
        new_customer(segment="galactic")
    assert refused.value.field == "segment"
    assert "Consumer, Small business, Enterprise, Public sector" in refused.value.message


def test_create_customer_refuses_a_blank_name(session):
    with pytest.raises(ServiceError) as refused:
        new_customer(name=" ")
    assert (refused.value.field, refused.value.message) == ("name", "A customer name is required.")


def test_customer_since_may_be_today_but_not_tomorrow(session):
    assert new_customer(customer_since=TODAY, today=TODAY).customer_since == TODAY
    with pytest.raises(ServiceError) as refused:
        new_customer(customer_since=TODAY + timedelta(days=1), today=TODAY)
    assert refused.value.field == "customer_since"
    assert refused.value.message == (
        "The customer-since date cannot be in the future (today is 2026-11-24)."
    )


def test_today_defaults_to_the_current_utc_date(session):
    with pytest.raises(ServiceError, match="cannot be in the future"):
        new_customer(customer_since=utcnow().date() + timedelta(days=2))


def test_update_customer_applies_the_edit(session):
    customer = new_customer()
    services.update_customer(
        customer,
        name="Northwind Traders Ltd",
        segment=CustomerSegment.SMALL_BUSINESS,
        annual_value=Decimal("900"),
        customer_since=date(2020, 1, 2),
        active=False,
        expected_version=customer.version,
        today=TODAY,
    )
    session.expire_all()
    stored = session.get(Customer, customer.id)
    assert (stored.name, stored.segment, stored.annual_value) == (
        "Northwind Traders Ltd",
        CustomerSegment.SMALL_BUSINESS,
        Decimal("900.00"),
    )
    assert (stored.customer_since, stored.active) == (date(2020, 1, 2), False)


def test_update_customer_applies_the_same_rules_as_create(session):
    customer = new_customer()
    with pytest.raises(ServiceError) as refused:
        services.update_customer(
            customer,
            name="Northwind Traders",
            segment="enterprise",
            annual_value=Decimal("-1"),
            customer_since=None,
            active=True,
            expected_version=customer.version,
        )
    assert refused.value.field == "annual_value"
    assert customer.annual_value == Decimal("1200.50")


def test_update_customer_refuses_a_stale_version(session):
    customer = new_customer()
    opened_version = customer.version
    edit = {
        "segment": "enterprise",
        "annual_value": Decimal("1"),
        "customer_since": None,
        "active": True,
    }
    services.update_customer(customer, name="First edit", expected_version=opened_version, **edit)
    with pytest.raises(StaleRecord, match="The customer First edit was changed by someone else"):
        services.update_customer(
            customer, name="Second edit", expected_version=opened_version, **edit
        )
    assert customer.name == "First edit"
