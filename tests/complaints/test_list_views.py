"""The complaint list page: filters, sorting, pagination, CSV export and its query count."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.core.audit import AuditAction, AuditEvent
from app.core.db import utcnow
from app.extensions import db
from tests.complaints.factories import (
    new_category,
    new_complaint,
    new_customer,
    new_process,
    walk,
)
from tests.organisation.pages import is_marked_invalid, page_text


def listed(response) -> list[str]:
    """The references in the list's rows, top to bottom."""
    assert response.status_code == 200, response.status_code
    return re.findall(r'<a href="/complaints/(CMP-\d{4}-\d{6})">', page_text(response))


@pytest.fixture()
def three(committed, make_user):
    """Three complaints received a day apart: low/received, high/acknowledged, critical/resolved."""
    lead = make_user("quality_lead")

    def create():
        now = utcnow()
        process = new_process("Delivery")
        low = new_complaint(
            lead, title="Late parcel", severity="low", received_at=now - timedelta(days=3)
        )
        high = walk(
            new_complaint(
                lead,
                title="Rude driver",
                severity="high",
                channel="phone",
                process_id=process.id,
                received_at=now - timedelta(days=2),
            ),
            lead,
            "acknowledge",
        )
        critical = walk(
            new_complaint(
                lead,
                title="Parcel lost",
                severity="critical",
                received_at=now - timedelta(days=20),
            ),
            lead,
            "resolve",
        )
        return {
            "low": low.reference,
            "high": high.reference,
            "critical": critical.reference,
            "process_id": process.id,
        }

    return committed(create)


def test_the_list_shows_newest_first(client, login, three):
    login("contributor")
    assert listed(client.get("/complaints")) == [three["high"], three["low"], three["critical"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("severity=high", ["high"]),
        ("status=received&status=resolved", ["low", "critical"]),
        ("q=PARCEL&sort=received_at", ["critical", "low"]),
        ("channel=phone", ["high"]),
        ("q=PARCEL", ["low", "critical"]),
        ("overdue=y", []),
    ],
)
def test_filters_change_what_is_listed(client, login, three, query, expected):
    login("quality_lead")
    assert listed(client.get(f"/complaints?{query}")) == [three[key] for key in expected]


def test_filter_by_process_and_overdue(client, login, three, committed, make_user):
    login("quality_lead")
    assert listed(client.get(f"/complaints?process_id={three['process_id']}")) == [three["high"]]
    lead = make_user("quality_lead")
    old = committed(new_complaint, lead, title="Old", received_at=utcnow() - timedelta(days=30))
    page = page_text(client.get("/complaints?overdue=y"))
    assert listed(client.get("/complaints?overdue=y")) == [old.reference]
    assert "received more than 14 days ago" in page and 'data-testid="overdue"' in page


def test_sorting_changes_the_order_and_links_reverse_it(client, login, three):
    login("quality_lead")
    response = client.get("/complaints?sort=severity")
    assert listed(response) == [three["low"], three["high"], three["critical"]]
    page = page_text(response)
    assert 'href="/complaints?sort=-severity"' in page  # a second click reverses
    assert listed(client.get("/complaints?sort=-severity")) == [
        three["critical"],
        three["high"],
        three["low"],
    ]
    assert listed(client.get("/complaints?sort=received_at")) == [
        three["critical"],
        three["low"],
        three["high"],
    ]


def test_sort_links_keep_the_filters(client, login, three):
    login("quality_lead")
    page = page_text(client.get("/complaints?severity=high&q=driver"))
    links = re.findall(r'href="(/complaints\?[^"]*sort=status[^"]*)"', page)
    assert links and all("severity=high" in link and "q=driver" in link for link in links)


@pytest.mark.parametrize(
    ("query", "field_id"),
    [
        ("status=lost", "status-0"),
        ("received_from=yesterday", "received_from"),
        ("received_from=2025-03-02&received_to=2025-03-01", "received_to"),
        ("process_id=999999", "process_id"),
        ("severity=urgent", "severity"),
    ],
)
def test_bad_filters_are_422_with_the_field_marked(client, login, three, query, field_id):
    login("quality_lead")
    response = client.get(f"/complaints?{query}")
    assert response.status_code == 422
    page = page_text(response)
    assert "Correct the filters above" in page
    if field_id != "status-0":
        assert is_marked_invalid(page, field_id)
    else:
        assert 'id="status-error"' in page


def test_pagination_happens_in_the_database(client, login, three, app, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    login("quality_lead")
    first = client.get("/complaints?sort=reference")
    assert listed(first) == sorted([three["low"], three["high"], three["critical"]])[:2]
    page = page_text(first)
    assert "Page 1 of 2 · 3 in all" in page
    assert 'href="/complaints?page=2&amp;sort=reference"' in first.get_data(as_text=True)
    second = client.get("/complaints?sort=reference&page=2")
    assert listed(second) == sorted([three["low"], three["high"], three["critical"]])[2:]


# --- CSV export --------------------------------------------------------------------------------


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def test_export_contains_the_filtered_rows(client, login, three, committed):
    login("quality_lead")
    page = page_text(client.get("/complaints?severity=high"))
    assert 'href="/complaints/export.csv?severity=high"' in page
    rows = csv_rows(client.get("/complaints/export.csv?severity=high"))
    assert rows[0][:3] == ["Reference", "Received at (UTC)", "Title"]
    assert [row[0] for row in rows[1:]] == [three["high"]]
    assert rows[1][2] == "Rude driver" and rows[1][4] == "High" and rows[1][8] == "Delivery"
    events = committed(
        lambda: db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == AuditAction.EXPORT)
        ).all()
    )
    assert len(events) == 1
    assert '"filters":' in events[0].changes and '{"severity":"high"}' in events[0].changes


def test_export_neutralises_formula_like_cells(client, login, committed, make_user):
    lead = make_user("quality_lead")
    committed(new_complaint, lead, title='=HYPERLINK("http://evil.example","click")')
    login("auditor")
    rows = csv_rows(client.get("/complaints/export.csv"))
    assert rows[1][2] == '\'=HYPERLINK("http://evil.example","click")'


def test_export_is_for_exporters_only(client, login, three):
    login("contributor")
    assert "Export CSV" not in page_text(client.get("/complaints"))
    assert client.get("/complaints/export.csv").status_code == 403


def test_export_with_bad_filters_is_422(client, login):
    login("quality_lead")
    assert client.get("/complaints/export.csv?received_to=never").status_code == 422


def test_each_row_shows_the_names_and_badges_of_its_complaint(client, login, committed, make_user):
    lead = make_user("quality_lead")
    assignee = make_user("contributor", full_name="Dana Field")

    def create():
        new_complaint(
            lead,
            title="Named everything",
            severity="critical",
            customer_id=new_customer("Acme Stores").id,
            process_id=new_process("Returns").id,
            category_id=new_category("Billing error").id,
            assignee_id=assignee.id,
        )
        new_complaint(lead, title="Named nothing", severity="low")

    committed(create)
    login("quality_lead")
    rows = re.findall(
        r'<tr data-testid="complaint-row">(.*?)</tr>', page_text(client.get("/complaints")), re.S
    )
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in rows]
    named, unnamed = sorted(cells, key=lambda row: "Named nothing" in row[2])
    assert re.fullmatch(r'<a href="/complaints/(CMP-\d{4}-\d{6})">\1</a>', named[0])
    assert named[3:6] == ["Acme Stores", "Returns", "Billing error"]
    assert named[8] == "Dana Field"
    assert 'class="badge text-bg-danger">Critical<' in named[6]
    assert 'data-testid="status">Received<' in named[7]
    assert unnamed[3:6] == ["—", "—", "—"] and unnamed[8] == "—"
    assert 'class="badge text-bg-light border">Low<' in unnamed[6]


# --- no N+1 queries ----------------------------------------------------------------------------


def _make_rows(committed, lead, how_many: int) -> None:
    def create():
        for number in range(how_many):
            contributor_email = f"n1-{how_many}-{number}@example.com"
            from tests.factories import create_user

            assignee = create_user("contributor", email=contributor_email)
            new_complaint(
                lead,
                title=f"Complaint {number}",
                customer_id=new_customer().id,
                process_id=new_process().id,
                category_id=new_category().id,
                assignee_id=assignee.id,
            )

    committed(create)


@pytest.mark.parametrize("path", ["/complaints", "/complaints/export.csv"])
def test_the_list_query_count_does_not_grow_with_the_rows(
    client, login, committed, make_user, path, count_queries
):
    lead = make_user("quality_lead")
    login("quality_lead")

    def statements_for(rows: int) -> int:
        _make_rows(committed, lead, rows)
        responses = []
        statements = count_queries(lambda: responses.append(client.get(path)))
        assert responses[0].status_code == 200
        assert responses[0].get_data(as_text=True).count("Complaint ") >= rows
        return statements

    with_3 = statements_for(3)
    with_30 = statements_for(27)  # 30 in all
    assert with_3 == with_30
