"""Failure categories: the taxonomy complaints and nonconformities share."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.core.audit import AuditAction, AuditEvent
from app.core.errors import ServiceError, StaleRecord
from app.organisation import services
from app.organisation.models import Category


def test_names_are_unique_without_regard_to_case(session):
    services.create_category(name="Billing error", description="Wrong amount charged")
    with pytest.raises(ServiceError) as refused:
        services.create_category(name="billing ERROR")
    assert refused.value.field == "name"


def test_a_blank_name_is_refused(session):
    with pytest.raises(ServiceError, match="A name is required"):
        services.create_category(name="   ")


def test_rename_is_audited_and_a_stale_copy_is_refused(session):
    category = services.create_category(name="Late visit")
    version = category.version
    services.update_category(
        category, name="Missed appointment", description="", active=True, expected_version=version
    )
    event = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.record_type == "category", AuditEvent.action == AuditAction.UPDATE)
        .order_by(AuditEvent.id.desc())
    ).first()
    assert event.changes_dict["name"] == ["Late visit", "Missed appointment"]
    with pytest.raises(StaleRecord):
        services.update_category(
            category, name="Other", description="", active=True, expected_version=version
        )


def test_active_only_lists_leave_out_deactivated_categories(session):
    services.create_category(name="Outage")
    services.create_category(name="Old taxonomy entry", active=False)
    names = [category.name for category in services.list_categories(active_only=True)]
    assert "Outage" in names and "Old taxonomy entry" not in names


def test_quality_lead_adds_a_category_and_sees_it_listed(client, login):
    login("quality_lead")
    response = client.post(
        "/categories/new",
        data={"name": "Data caps", "description": "Usage limits", "active": "y"},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "Added the category Data caps." in page
    assert "Usage limits" in page


def test_bad_input_re_renders_and_saves_nothing(client, login, session):
    login("admin")
    before = session.scalar(select(func.count(Category.id)))
    response = client.post("/categories/new", data={"name": "", "description": "x"})
    assert response.status_code == 422
    assert "This field is required." in response.get_data(as_text=True)
    assert session.scalar(select(func.count(Category.id))) == before


def test_contributors_see_the_list_but_cannot_edit(client, login, session):
    category = services.create_category(name="Rude staff")
    session.commit()
    login("contributor")
    listing = client.get("/categories").get_data(as_text=True)
    assert "Rude staff" in listing and "New category" not in listing
    assert client.get(f"/categories/{category.id}").status_code == 403
