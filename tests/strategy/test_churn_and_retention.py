"""Churn and retention of the customer base, computed from the customer records, against a
hand-worked example."""

from __future__ import annotations

from datetime import date

import pytest

from app.extensions import db
from app.metrics import catalogue
from app.metrics.kpis import Scope
from app.organisation.models import Customer, CustomerSegment


def _customer(name: str, since: date | None, left: date | None = None) -> Customer:
    customer = Customer(
        name=name,
        segment=CustomerSegment.CONSUMER,
        customer_since=since,
        active=left is None,
        left_on=left,
    )
    db.session.add(customer)
    return customer


def test_churn_and_retention_for_a_hand_worked_quarter(session) -> None:
    # The quarter 1 April – 30 June 2026.
    _customer("A", date(2025, 1, 10))  # there at the start, stays
    _customer("B", date(2025, 6, 1))  # there at the start, stays
    _customer("C", date(2026, 3, 31))  # joined the day before: there at the start, stays
    _customer("D", date(2024, 2, 1), left=date(2026, 5, 15))  # there at the start, left: churn
    _customer("E", date(2024, 2, 1), left=date(2026, 6, 30))  # left on the last day: churn
    _customer("F", date(2024, 2, 1), left=date(2026, 3, 31))  # left before the quarter: out
    _customer("G", date(2026, 4, 2))  # joined during the quarter: neither way
    _customer("H", date(2026, 4, 2), left=date(2026, 5, 1))  # joined and left inside: neither
    _customer("I", None)  # no customer-since date: no data, not counted
    _customer("J", date(2024, 2, 1), left=date(2026, 7, 1))  # left after the quarter: kept
    db.session.flush()
    quarter = Scope.between(date(2026, 4, 1), date(2026, 6, 30))
    # At the start: A, B, C, D, E, J = 6. Left during it: D, E = 2.
    assert catalogue.value("customer_churn_rate", quarter) == pytest.approx(2 / 6)
    assert catalogue.value("customer_retention_rate", quarter) == pytest.approx(4 / 6)
    # July: at the start A, B, C, G, J (and H left before) = 5; J left on 1 July.
    july = Scope.between(date(2026, 7, 1), date(2026, 7, 31))
    assert catalogue.value("customer_churn_rate", july) == pytest.approx(1 / 5)


def test_no_customer_base_means_unknown_not_zero(session) -> None:
    _customer("Unknown since", None)
    db.session.flush()
    scope = Scope.between(date(2026, 4, 1), date(2026, 6, 30))
    assert catalogue.value("customer_churn_rate", scope) is None
    assert catalogue.value("customer_retention_rate", scope) is None


def test_making_a_customer_inactive_records_the_day_they_left(session) -> None:
    from app.organisation import services as organisation

    customer = organisation.create_customer(
        name="Leaving Ltd", segment="enterprise", customer_since=date(2025, 1, 1)
    )
    organisation.update_customer(
        customer,
        name=customer.name,
        segment="enterprise",
        annual_value=None,
        customer_since=date(2025, 1, 1),
        active=False,
        expected_version=customer.version,
        today=date(2026, 5, 2),
    )
    assert customer.left_on == date(2026, 5, 2)
    organisation.update_customer(
        customer,
        name=customer.name,
        segment="enterprise",
        annual_value=None,
        customer_since=date(2025, 1, 1),
        active=True,
        expected_version=customer.version,
        today=date(2026, 6, 2),
    )
    assert customer.left_on is None
