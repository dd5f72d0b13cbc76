"""The nonconformity list: filters, sorting, pagination, CSV export and the query count."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest

from app.core.db import utcnow
from app.extensions import db
from app.nonconformities import services
from app.nonconformities.models import NonconformitySource, NonconformityStatus
from app.nonconformities.services import NonconformityFilters
from tests import factories as user_factories
from tests.nonconformities.factories import make_category, make_process, raise_nc

S = NonconformityStatus
NOW = datetime(2025, 5, 20, 12, 0, tzinfo=UTC)


def _references(filters: NonconformityFilters, now: datetime = NOW) -> list[str]:
    statement, _ = services.nonconformity_list_query(filters, now=now)
    return [nc.reference for nc in db.session.scalars(statement)]


@pytest.fixture()
def sample(session):
    """Five nonconformities that differ in every filtered field."""
    owner = user_factories.create_user("contributor")
    billing, delivery = make_process("Billing"), make_process("Delivery")
    duplicate, late = make_category("Duplicate charge"), make_category("Late delivery")
    rows = {
        "old_open": raise_nc(
            title="Old duplicate charges",
            detected_at=datetime(2025, 3, 1, 8, 0, tzinfo=UTC),
            process_id=billing.id,
            category_id=duplicate.id,
            severity=2,
            occurrence=2,
            detection=2,
        ),
        "old_closed": raise_nc(
            title="Closed long ago",
            detected_at=datetime(2025, 3, 2, 8, 0, tzinfo=UTC),
            severity=10,
            occurrence=10,
            detection=2,
        ),
        "recent": raise_nc(
            title="Parcels two days late",
            description="Courier missed the cut-off",
            detected_at=datetime(2025, 5, 10, 23, 59, tzinfo=UTC),
            process_id=delivery.id,
            category_id=late.id,
            owner_id=owner.id,
            source="customer_complaint",
            severity=7,
            occurrence=5,
            detection=4,
        ),
        "high": raise_nc(
            title="Wrong prices published",
            detected_at=datetime(2025, 5, 11, 0, 0, tzinfo=UTC),
            process_id=billing.id,
            severity=8,
            occurrence=5,
            detection=5,
        ),
        "cancelled": raise_nc(
            title="Raised by mistake",
            detected_at=datetime(2025, 1, 5, 8, 0, tzinfo=UTC),
            severity=1,
            occurrence=1,
            detection=1,
        ),
    }
    rows["old_closed"].status = S.CLOSED
    rows["cancelled"].status = S.CANCELLED
    db.session.flush()
    return {
        "rows": {key: nc.reference for key, nc in rows.items()},
        "owner": owner,
        "billing": billing,
        "duplicate": duplicate,
    }


def test_default_order_is_newest_detected_first(sample) -> None:
    r = sample["rows"]
    assert _references(NonconformityFilters()) == [
        r["high"],
        r["recent"],
        r["old_closed"],
        r["old_open"],
        r["cancelled"],
    ]


def test_sorting_by_rpn_reference_and_status(sample) -> None:
    r = sample["rows"]
    by_rpn = _references(NonconformityFilters(sort="-rpn"))
    assert by_rpn[:2] == [r["high"], r["old_closed"]]  # 200, 200: tie broken by id, newest first
    assert by_rpn[2:] == [r["recent"], r["old_open"], r["cancelled"]]
    assert _references(NonconformityFilters(sort="reference")) == sorted(r.values())
    statuses = _references(NonconformityFilters(sort="status"))
    assert statuses[0] == r["cancelled"] and statuses[1] == r["old_closed"]
    _, used = services.nonconformity_list_query(NonconformityFilters(sort="title; drop"))
    assert used == "-detected_at"


def test_filters(sample) -> None:
    r = sample["rows"]
    assert _references(NonconformityFilters(status=S.CLOSED)) == [r["old_closed"]]
    assert _references(NonconformityFilters(process_id=sample["billing"].id)) == [
        r["high"],
        r["old_open"],
    ]
    assert _references(NonconformityFilters(category_id=sample["duplicate"].id)) == [r["old_open"]]
    assert _references(NonconformityFilters(owner_id=sample["owner"].id)) == [r["recent"]]
    assert _references(NonconformityFilters(source=NonconformitySource.CUSTOMER_COMPLAINT)) == [
        r["recent"]
    ]
    assert _references(NonconformityFilters(search="COURIER")) == [r["recent"]]
    assert _references(NonconformityFilters(search=r["high"][-6:])) == [r["high"]]
    assert _references(NonconformityFilters(search="100%")) == []


def test_detected_date_range_includes_both_whole_days(sample) -> None:
    r = sample["rows"]
    assert _references(
        NonconformityFilters(detected_from=date(2025, 5, 10), detected_to=date(2025, 5, 10))
    ) == [r["recent"]]
    assert _references(NonconformityFilters(detected_from=date(2025, 5, 11))) == [r["high"]]
    assert _references(NonconformityFilters(detected_to=date(2025, 3, 1))) == [
        r["old_open"],
        r["cancelled"],
    ]


def test_overdue_means_still_open_more_than_30_days_after_detection(sample) -> None:
    r = sample["rows"]
    assert _references(NonconformityFilters(overdue=True)) == [r["old_open"]]
    later = NOW + timedelta(days=30)
    assert _references(NonconformityFilters(overdue=True), now=later) == [
        r["high"],
        r["recent"],
        r["old_open"],
    ]


def test_rpn_bands(sample) -> None:
    r = sample["rows"]
    assert _references(NonconformityFilters(rpn_band="low")) == [r["old_open"], r["cancelled"]]
    assert _references(NonconformityFilters(rpn_band="medium")) == [r["recent"]]
    assert _references(NonconformityFilters(rpn_band="high")) == [r["high"], r["old_closed"]]


# --- the page ----------------------------------------------------------------------------------


def _make_many(count: int, **fields):
    def make():
        # Distinct related records per row, so a lazy load per row would show in the query count.
        owners = [user_factories.create_user("contributor") for _ in range(2)]
        for number in range(count):
            raise_nc(
                title=f"Row {number}",
                owner_id=owners[number % 2].id,
                process_id=make_process().id,
                category_id=make_category().id,
                detected_at=utcnow() - timedelta(days=number),
                **fields,
            )

    return make


def test_the_page_lists_and_explains(client, login, committed) -> None:
    login("contributor")
    committed(_make_many(2))
    committed(
        lambda: raise_nc(
            title="Old one", detected_at=utcnow() - timedelta(days=40), severity=10, detection=2
        )
    )

    page = client.get("/nonconformities").get_data(as_text=True)

    assert page.count('data-testid="nc-row"') == 3
    assert "Old one" in page and "Row 0" in page
    assert "100 · Medium" in page  # 10 × 5 × 2
    assert page.count('data-testid="overdue"') == 1
    assert "detected more than 30 days ago" in page
    assert "low below 100, medium 100–199, high 200 and above" in page
    assert "Raise nonconformity" in page
    assert "Export CSV" not in page  # contributors do not export


def test_filters_and_sort_from_the_url(client, login, committed) -> None:
    login("auditor")
    committed(_make_many(3))
    committed(lambda: raise_nc(title="Wrong prices", severity=10, occurrence=10, detection=3))

    page = client.get("/nonconformities?rpn_band=high&q=prices").get_data(as_text=True)
    assert page.count('data-testid="nc-row"') == 1 and "Wrong prices" in page

    page = client.get("/nonconformities?sort=-rpn").get_data(as_text=True)
    rows = page.split('data-testid="nc-row"')[1:]
    assert "Wrong prices" in rows[0]

    page = client.get("/nonconformities?overdue=y").get_data(as_text=True)
    assert "No nonconformities match the filters." in page


def test_bad_filters_are_refused_with_field_errors(client, login) -> None:
    login("quality_lead")
    response = client.get(
        "/nonconformities?detected_from=2026-05-10&detected_to=2026-05-01&status=lost"
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "The end date is before the start date." in page
    assert "Not a valid choice" in page


def test_pagination_happens_in_the_database(app, client, login, committed) -> None:
    login("quality_lead")
    committed(_make_many(app.config["PAGE_SIZE"] + 3))
    first = client.get("/nonconformities").get_data(as_text=True)
    second = client.get("/nonconformities?page=2").get_data(as_text=True)
    assert first.count('data-testid="nc-row"') == app.config["PAGE_SIZE"]
    assert second.count('data-testid="nc-row"') == 3
    assert f"Page 2 of 2 · {app.config['PAGE_SIZE'] + 3} in all" in second


def test_export_the_filtered_list(client, login, committed) -> None:
    login("quality_lead")
    committed(_make_many(3, severity=2))  # RPN 40: low
    committed(lambda: raise_nc(title="=HYPERLINK(evil)", severity=7, occurrence=5, detection=4))

    response = client.get("/nonconformities/export.csv?rpn_band=medium")

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:3] == ["Reference", "Title", "Status"]
    assert len(rows) == 2
    assert rows[1][1] == "'=HYPERLINK(evil)"  # neutralised for spreadsheets
    assert rows[1][rows[0].index("RPN")] == "140"
    assert rows[1][rows[0].index("RPN band")] == "medium"


def test_contributors_may_not_export(client, login) -> None:
    login("contributor")
    assert client.get("/nonconformities/export.csv").status_code == 403


def test_the_list_page_does_not_query_per_row(client, login, committed, count_queries) -> None:
    login("quality_lead")
    committed(_make_many(3))
    few = count_queries(lambda: client.get("/nonconformities"))
    committed(_make_many(27))
    many = count_queries(lambda: client.get("/nonconformities"))
    assert client.get("/nonconformities").get_data(as_text=True).count('data-testid="nc-row"') == 30
    assert few == many
