"""Every list page says how many records it holds (matching its filters), above the table, and
keeps its filters in the URL: the filter form shows them again, and the page and sort links carry
them, so a filtered list can be shared as a link."""

from __future__ import annotations

import re

import pytest

from app.extensions import db
from tests.capa.factories import plan
from tests.complaints.factories import new_complaint, new_customer
from tests.organisation.pages import field_tag, page_text


def summary(page: str) -> str:
    match = re.search(r'<p class="table-summary"[^>]*data-testid="list-summary">(.*?)</p>', page)
    assert match, "no list summary on the page"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", match[1])).strip()


def test_the_complaint_nonconformity_and_capa_lists_count_what_matches(
    app, client, login, committed
) -> None:
    lead = login("quality_lead")

    def create() -> None:
        for title in ("Router dead on arrival", "Router keeps rebooting", "Bill too high"):
            new_complaint(lead, title=title)
        for title in ("Brief the router team", "Fix the bill run"):
            plan(lead, title=title)

    committed(create)
    complaints = page_text(client.get("/complaints?q=Router"))
    assert summary(complaints) == "2 complaints matching the filters · showing 1–2."
    assert 'value="Router"' in field_tag(complaints, "q")
    assert summary(page_text(client.get("/complaints"))) == "3 complaints · showing 1–3."

    capas = page_text(client.get("/capa?status=planned"))
    assert summary(capas) == "2 CAPAs matching the filters · showing 1–2."
    assert re.search(r'<option selected value="planned">|<option value="planned" selected', capas)
    # The sort links keep the filter.
    assert "/capa?status=planned&amp;sort=reference" in client.get("/capa?status=planned").get_data(
        as_text=True
    )

    ncs = page_text(client.get("/nonconformities?q=nothing-like-this"))
    assert summary(ncs) == "No nonconformities match the filters."


def test_the_customer_list_filters_by_name_and_status_in_the_url(
    app, client, login, committed
) -> None:
    login("quality_lead")

    def create() -> None:
        new_customer("Harbour Dental", external_id="HD-1")
        new_customer("Harbour Bakery")
        gone = new_customer("Harbour Hotel")
        gone.active = False
        new_customer("Atlas Logistics")
        db.session.flush()

    committed(create)
    everyone = page_text(client.get("/customers"))
    assert summary(everyone).startswith("4 customers · showing 1–4")
    harbour = page_text(client.get("/customers?q=harbour&status=active"))
    assert summary(harbour) == "2 customers matching the filters · showing 1–2."
    assert "Harbour Dental" in harbour and "Harbour Bakery" in harbour
    assert "Harbour Hotel" not in harbour and "Atlas" not in harbour
    assert 'value="harbour"' in field_tag(harbour, "q")
    assert re.search(r'<option selected value="active">|<option value="active" selected', harbour)
    by_id = page_text(client.get("/customers?q=hd-1"))
    assert summary(by_id).startswith("1 customer matching") and "Harbour Dental" in by_id
    none = page_text(client.get("/customers?q=zzz"))
    assert "No customers match these filters." in none
    bad = client.get("/customers?status=gone")
    assert bad.status_code == 422 and "Correct the filters above" in page_text(bad)


def test_the_customer_list_pages_keep_the_filter(app, client, login, committed) -> None:
    login("quality_lead")
    size = app.config["PAGE_SIZE"]

    def create() -> None:
        for number in range(size + 2):
            new_customer(f"Paged customer {number:03d}")

    committed(create)
    first = page_text(client.get("/customers?q=paged"))
    assert summary(first) == f"{size + 2} customers matching the filters · showing 1–{size}."
    assert "/customers?page=2&q=paged" in first or "/customers?q=paged&page=2" in first
    second = page_text(client.get("/customers?q=paged&page=2"))
    assert summary(second) == (
        f"{size + 2} customers matching the filters · showing {size + 1}–{size + 2}."
    )


@pytest.mark.parametrize(
    ("path", "role", "noun"),  # noun: a pattern, singular or plural
    [
        ("/audit", "auditor", "events?"),
        ("/admin/users", "admin", "users?"),
        ("/sites", "quality_lead", "sites?"),
        ("/processes", "quality_lead", "process(es)?"),
        ("/categories", "quality_lead", "categor(y|ies)"),
        ("/admin/tokens", "admin", "tokens?"),
        ("/import/mappings", "quality_lead", "saved mappings?"),
        ("/tasks", "quality_lead", "tasks?"),
        ("/admin/scheduler", "admin", "jobs?"),
        ("/notifications", "quality_lead", "notifications?"),
    ],
)
def test_every_other_list_shows_its_count(client, login, path, role, noun) -> None:
    login(role)
    response = client.get(path)
    assert response.status_code == 200
    assert re.fullmatch(rf"[\d,]+ {noun}\b.*", summary(page_text(response))), summary(
        page_text(response)
    )
