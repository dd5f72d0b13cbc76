"""Customers by external id, nonconformities and CAPAs with their status and links, and the
reference lists; every response checked against the OpenAPI document."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.capa import services as capa_services
from app.complaints import services as complaint_services
from app.extensions import db
from app.nonconformities import services as nc_services
from app.organisation.models import Customer
from tests.factories import create_user

CUSTOMER = "/api/v1/customers/{external_id}"


def put_customer(client, auth, conforms, external_id: str, body: dict):
    response = client.put(f"/api/v1/customers/{external_id}", json=body, headers=auth)
    return response, conforms(response, "PUT", CUSTOMER)


def test_put_creates_then_updates_a_customer_by_external_id(client, auth, conforms, count) -> None:
    response, created = put_customer(
        client,
        auth,
        conforms,
        "CRM-1",
        {"name": "Grace Hopper", "segment": "enterprise", "annual_value": "1200.50"},
    )
    assert response.status_code == 201
    assert response.headers["Location"] == "/api/v1/customers/CRM-1"
    assert created["annual_value"] == "1200.50" and created["active"] is True

    response, updated = put_customer(
        client, auth, conforms, "CRM-1", {"name": "Grace B. Hopper", "segment": "enterprise"}
    )
    assert response.status_code == 200
    assert updated["id"] == created["id"]
    assert updated["name"] == "Grace B. Hopper"
    assert updated["annual_value"] == "1200.50"  # left out: kept
    assert count(Customer) == 1

    read = client.get("/api/v1/customers/CRM-1", headers=auth)
    assert conforms(read, "GET", CUSTOMER) == updated


def test_customer_rules_of_the_service_apply(client, auth, conforms) -> None:
    future = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    response, problem = put_customer(
        client,
        auth,
        conforms,
        "CRM-2",
        {"name": "X", "segment": "consumer", "customer_since": future},
    )
    assert response.status_code == 422
    assert problem["errors"][0]["field"] == "customer_since"


def test_an_unknown_customer_is_404(client, auth, conforms) -> None:
    response = client.get("/api/v1/customers/nobody", headers=auth)
    assert conforms(response, "GET", CUSTOMER)["status"] == 404


@pytest.fixture()
def quality_records(app, db_connection):
    """A complaint linked to a nonconformity that a CAPA addresses."""
    with app.app_context():
        lead = create_user("quality_lead")
        complaint = complaint_services.record_complaint(
            user=lead, title="Wrong bill", channel="phone", severity="medium"
        )
        nc = nc_services.raise_nonconformity(
            title="Billing run used old tariffs",
            source="customer_complaint",
            detected_at=datetime.now(UTC),
            severity=6,
            occurrence=4,
            detection=3,
            owner_id=lead.id,
            complaint_ids=[complaint.id],
            user=lead,
        )
        capa = capa_services.plan_capa(
            kind="corrective",
            recovery_dimension="process",
            title="Check tariffs before each billing run",
            owner_id=lead.id,
            due_date=capa_services.today_utc() + timedelta(days=30),
            principle_ids=[1, 4],
            nonconformity_ids=[nc.id],
            user=lead,
        )
        db.session.commit()
        return {"complaint": complaint.reference, "nc": nc.reference, "capa": capa.reference}


def test_nonconformities_list_and_read_with_links(client, auth, conforms, quality_records) -> None:
    response = client.get("/api/v1/nonconformities?status=open", headers=auth)
    page = conforms(response, "GET", "/api/v1/nonconformities")
    assert [item["reference"] for item in page["data"]] == [quality_records["nc"]]
    item = page["data"][0]
    assert item["status"] == "open"
    assert item["rpn"] == 72
    assert item["complaints"] == [quality_records["complaint"]]
    assert item["capas"] == [quality_records["capa"]]
    assert item["links"]["self"] == f"/api/v1/nonconformities/{quality_records['nc']}"

    closed = client.get("/api/v1/nonconformities?status=closed", headers=auth)
    assert conforms(closed, "GET", "/api/v1/nonconformities")["data"] == []

    read = client.get(item["links"]["self"], headers=auth)
    assert conforms(read, "GET", "/api/v1/nonconformities/{reference}") == item
    assert client.get(item["links"]["html"], headers=auth).status_code == 302  # a browser page

    complaint = client.get(f"/api/v1/complaints/{quality_records['complaint']}", headers=auth)
    assert conforms(complaint, "GET", "/api/v1/complaints/{reference}")["nonconformities"] == [
        quality_records["nc"]
    ]


def test_capas_list_and_read_with_links(client, auth, conforms, quality_records) -> None:
    response = client.get("/api/v1/capas?status=planned", headers=auth)
    page = conforms(response, "GET", "/api/v1/capas")
    [item] = page["data"]
    assert item["reference"] == quality_records["capa"]
    assert item["status"] == "planned"
    assert item["nonconformities"] == [quality_records["nc"]]
    assert [principle["id"] for principle in item["principles"]] == [1, 4]
    assert item["links"]["html"] == f"/capa/{quality_records['capa']}"

    read = client.get(f"/api/v1/capas/{quality_records['capa']}", headers=auth)
    assert conforms(read, "GET", "/api/v1/capas/{reference}") == item
    missing = client.get("/api/v1/capas/CAPA-1999-000001", headers=auth)
    assert conforms(missing, "GET", "/api/v1/capas/{reference}")["status"] == 404
    missing = client.get("/api/v1/nonconformities/NC-1999-000001", headers=auth)
    assert conforms(missing, "GET", "/api/v1/nonconformities/{reference}")["status"] == 404


def test_reference_lists(client, auth, conforms, app) -> None:
    with app.app_context():
        from tests.complaints.factories import new_category, new_process

        process = new_process("Billing")
        category = new_category("Wrong amount")
        db.session.commit()
        ids = process.id, category.id

    processes = conforms(client.get("/api/v1/processes", headers=auth), "GET", "/api/v1/processes")
    assert {"id": ids[0], "name": "Billing", "description": "", "active": True} in processes["data"]
    categories = conforms(
        client.get("/api/v1/categories", headers=auth), "GET", "/api/v1/categories"
    )
    assert "Wrong amount" in [item["name"] for item in categories["data"]]
    channels = conforms(client.get("/api/v1/channels", headers=auth), "GET", "/api/v1/channels")
    assert {"value": "email", "label": "E-mail"} in channels["data"]
    principles = conforms(
        client.get("/api/v1/principles", headers=auth), "GET", "/api/v1/principles"
    )
    assert len(principles["data"]) == 8
    assert principles["data"][0]["id"] == 1


def test_an_external_id_names_one_customer_only(session) -> None:
    from app.core.errors import ServiceError
    from app.organisation import services as organisation

    organisation.create_customer(name="A", segment="consumer", external_id="CRM-9")
    with pytest.raises(ServiceError, match="external id CRM-9 exists already") as refused:
        organisation.create_customer(name="B", segment="consumer", external_id="CRM-9")
    assert refused.value.field == "external_id"
    assert organisation.customer_by_external_id("CRM-9").name == "A"


def test_an_external_id_with_odd_characters_gets_a_valid_location(client, auth, conforms) -> None:
    response, body = put_customer(
        client, auth, conforms, "a%0Db%20c", {"name": "Odd id", "segment": "consumer"}
    )
    assert response.status_code == 201
    assert body["external_id"] == "a\rb c"
    assert response.headers["Location"] == "/api/v1/customers/a%0Db%20c"
