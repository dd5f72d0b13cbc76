"""Site rules: unique upper-cased codes, unique names, optimistic locking."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from app.core.audit import AuditAction, AuditEvent
from app.core.errors import ServiceError, StaleRecord
from app.organisation import services
from app.organisation.models import Site


def test_create_site_upper_cases_the_code_and_trims_the_text(session):
    site = services.create_site(code=" lon-1 ", name="  London centre ", address=" 1 Example St ")
    stored = session.scalar(select(Site).where(Site.id == site.id))
    assert (stored.code, stored.name, stored.address, stored.active) == (
        "LON-1",
        "London centre",
        "1 Example St",
        True,
    )


def test_create_site_can_start_inactive(session):
    assert services.create_site(code="OLD", name="Old depot", active=False).active is False


@pytest.mark.parametrize(
    ("code", "name", "field", "message"),
    [
        ("", "Somewhere", "code", "A site code is required."),
        ("   ", "Somewhere", "code", "A site code is required."),
        ("X" * 21, "Somewhere", "code", "at most 20 characters"),
        ("LON 2", "Somewhere", "code", "only letters, digits, hyphens and underscores"),
        ("-LON", "Somewhere", "code", "starting with a letter or digit"),
        ("ABC", "", "name", "A site name is required."),
        ("ABC", "N" * 201, "name", "at most 200 characters"),
    ],
)
def test_create_site_refuses_missing_or_malformed_values(session, code, name, field, message):
    with pytest.raises(ServiceError) as refused:
        services.create_site(code=code, name=name)
    assert refused.value.field == field
    assert message in refused.value.message
    assert session.scalar(select(Site).where(Site.name == name)) is None


def test_create_site_refuses_a_code_in_use_whatever_its_case(session):
    services.create_site(code="LON", name="London")
    with pytest.raises(ServiceError) as refused:
        services.create_site(code="lon", name="London two")
    assert refused.value.field == "code"
    assert refused.value.message == "Another site already has the code LON."


def test_create_site_refuses_a_name_in_use_whatever_its_case(session):
    services.create_site(code="LON", name="London")
    with pytest.raises(ServiceError) as refused:
        services.create_site(code="LDN", name="LONDON")
    assert refused.value.field == "name"
    assert "already called 'LONDON'" in refused.value.message


def test_a_duplicate_that_slips_past_the_check_is_still_refused_on_its_field(session, monkeypatch):
    # Another request may insert the same code between our check and our write; the database's
    # unique constraint then refuses, and the user still gets a message on the right field.
    services.create_site(code="LON", name="London")
    monkeypatch.setattr(services, "_taken", lambda *args, **kwargs: False)
    with pytest.raises(ServiceError) as refused:
        services.create_site(code="LON", name="London two")
    assert refused.value.field == "code"
    assert refused.value.message == "Another site already has the code LON."
    session.rollback()


def test_update_site_applies_the_edit_and_keeps_its_own_code_and_name(session):
    site = services.create_site(code="MAN", name="Manchester")
    services.update_site(
        site,
        code="man",
        name="Manchester",
        address="2 Sample Road",
        active=False,
        expected_version=site.version,
    )
    session.expire_all()
    stored = session.get(Site, site.id)
    assert (stored.code, stored.name, stored.address, stored.active) == (
        "MAN",
        "Manchester",
        "2 Sample Road",
        False,
    )


def test_update_site_refuses_taking_another_sites_code_or_name(session):
    services.create_site(code="LON", name="London")
    site = services.create_site(code="MAN", name="Manchester")
    with pytest.raises(ServiceError) as by_code:
        services.update_site(
            site, code="LON", name="Manchester", address="", active=True, expected_version=1
        )
    with pytest.raises(ServiceError) as by_name:
        services.update_site(
            site, code="MAN", name="london", address="", active=True, expected_version=1
        )
    assert (by_code.value.field, by_name.value.field) == ("code", "name")


def test_update_site_refuses_a_stale_version_and_changes_nothing(session):
    site = services.create_site(code="LON", name="London")
    opened_version = site.version
    services.update_site(
        site, code="LON", name="London West", address="", active=True, expected_version=site.version
    )
    with pytest.raises(StaleRecord) as refused:
        services.update_site(
            site,
            code="LON",
            name="London East",
            address="",
            active=True,
            expected_version=opened_version,
        )
    assert refused.value.message.startswith(
        "The site London West was changed by someone else since you opened it. Reload"
    )
    assert site.name == "London West"


def test_update_site_refuses_a_form_without_a_version(session):
    site = services.create_site(code="LON", name="London")
    with pytest.raises(StaleRecord, match="missing its version"):
        services.update_site(
            site, code="LON", name="London West", address="", active=True, expected_version=""
        )


def test_a_save_overtaken_in_the_database_is_refused_as_stale(session):
    # The form's version matched when checked, but another writer committed before our UPDATE:
    # the versioned UPDATE matches no row, and the user is told to reload, not shown an error page.
    site = services.create_site(code="LON", name="London")
    session.execute(text("UPDATE site SET version = version + 1 WHERE id = :id"), {"id": site.id})
    with pytest.raises(StaleRecord, match="changed by someone else"):
        services.update_site(
            site, code="LON", name="London East", address="", active=True, expected_version=1
        )
    session.rollback()


def test_site_changes_reach_the_audit_trail_with_old_and_new_values(session):
    site = services.create_site(code="LON", name="London")
    services.update_site(
        site, code="LON", name="London West", address="", active=True, expected_version=1
    )
    update = session.scalar(
        select(AuditEvent).where(
            AuditEvent.record_type == "site",
            AuditEvent.record_id == str(site.id),
            AuditEvent.action == AuditAction.UPDATE,
        )
    )
    assert update.changes_dict == {"name": ["London", "London West"]}
