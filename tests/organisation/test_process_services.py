"""Process rules: unique names, an existing active owner and site, optimistic locking."""

from __future__ import annotations

import pytest

from app.accounts.services import set_active
from app.core.errors import ServiceError, StaleRecord
from app.organisation import services
from app.organisation.models import Process
from tests import factories


def test_create_process_with_owner_and_site(session):
    owner = factories.create_user("contributor", full_name="Olive Owner")
    site = services.create_site(code="LON", name="London")
    process = services.create_process(
        name=" Billing ", description=" Invoices ", owner_id=owner.id, site_id=site.id
    )
    session.expire_all()
    stored = session.get(Process, process.id)
    assert (stored.name, stored.description, stored.active) == ("Billing", "Invoices", True)
    assert (stored.owner.full_name, stored.site.name) == ("Olive Owner", "London")


def test_create_process_without_owner_or_site(session):
    process = services.create_process(name="Customer care")
    assert (process.owner_id, process.site_id) == (None, None)


def test_create_process_refuses_a_blank_name(session):
    with pytest.raises(ServiceError) as refused:
        services.create_process(name="  ")
    assert (refused.value.field, refused.value.message) == ("name", "A process name is required.")


def test_create_process_refuses_a_name_in_use_whatever_its_case(session):
    services.create_process(name="Billing")
    with pytest.raises(ServiceError) as refused:
        services.create_process(name="billing")
    assert refused.value.field == "name"
    assert "already called 'billing'" in refused.value.message


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"owner_id": 999_999}, "owner_id", "The chosen owner does not exist."),
        ({"site_id": 999_999}, "site_id", "The chosen site does not exist."),
    ],
)
def test_create_process_refuses_unknown_owner_or_site(session, kwargs, field, message):
    with pytest.raises(ServiceError) as refused:
        services.create_process(name="Billing", **kwargs)
    assert (refused.value.field, refused.value.message) == (field, message)


def test_a_new_process_cannot_go_to_a_deactivated_owner_or_inactive_site(session):
    factories.create_user("admin")  # deactivating needs another administrator around
    leaver = factories.create_user("contributor", full_name="Lee Leaver")
    set_active(leaver, False)
    closed = services.create_site(code="OLD", name="Old depot", active=False)
    with pytest.raises(ServiceError) as by_owner:
        services.create_process(name="Billing", owner_id=leaver.id)
    with pytest.raises(ServiceError) as by_site:
        services.create_process(name="Billing", site_id=closed.id)
    assert by_owner.value.message == "Lee Leaver is deactivated and cannot take on a process."
    assert by_site.value.message == "The site Old depot is inactive; choose an active site."


def test_an_edit_may_keep_a_process_with_its_deactivated_owner(session):
    owner = factories.create_user("contributor", full_name="Lee Leaver")
    process = services.create_process(name="Billing", owner_id=owner.id)
    set_active(owner, False)
    services.update_process(
        process,
        name="Billing and payments",
        description="",
        owner_id=owner.id,
        site_id=None,
        active=True,
        expected_version=process.version,
    )
    assert (process.name, process.owner_id) == ("Billing and payments", owner.id)


def test_update_process_moves_and_clears_owner_and_site(session):
    first = factories.create_user("contributor")
    second = factories.create_user("quality_lead")
    site = services.create_site(code="LON", name="London")
    process = services.create_process(name="Billing", owner_id=first.id, site_id=site.id)
    services.update_process(
        process,
        name="Billing",
        description="Now owned by the lead",
        owner_id=second.id,
        site_id=None,
        active=False,
        expected_version=process.version,
    )
    session.expire_all()
    stored = session.get(Process, process.id)
    assert (stored.owner_id, stored.site_id, stored.active) == (second.id, None, False)
    assert stored.description == "Now owned by the lead"


def test_update_process_refuses_another_processes_name(session):
    services.create_process(name="Billing")
    process = services.create_process(name="Installation")
    with pytest.raises(ServiceError) as refused:
        services.update_process(
            process,
            name="BILLING",
            description="",
            owner_id=None,
            site_id=None,
            active=True,
            expected_version=process.version,
        )
    assert refused.value.field == "name"


def test_update_process_refuses_a_stale_version(session):
    process = services.create_process(name="Billing")
    opened_version = process.version
    services.update_process(
        process,
        name="Billing",
        description="First edit",
        owner_id=None,
        site_id=None,
        active=True,
        expected_version=opened_version,
    )
    with pytest.raises(StaleRecord, match="The process Billing was changed by someone else"):
        services.update_process(
            process,
            name="Billing",
            description="Second edit from an old form",
            owner_id=None,
            site_id=None,
            active=True,
            expected_version=opened_version,
        )
    assert process.description == "First edit"


def test_assignable_owners_are_active_users_plus_the_current_owner(session):
    factories.create_user("admin")
    active = factories.create_user("contributor", full_name="Ann Active")
    current = factories.create_user("contributor", full_name="Cal Current")
    other = factories.create_user("contributor", full_name="Dee Departed")
    set_active(current, False)
    set_active(other, False)
    assert active in services.assignable_owners()
    assert current not in services.assignable_owners()
    with_current = services.assignable_owners(current.id)
    assert current in with_current and other not in with_current


def test_assignable_sites_are_active_sites_plus_the_current_site(session):
    open_site = services.create_site(code="LON", name="London")
    closed = services.create_site(code="OLD", name="Old depot", active=False)
    assert services.assignable_sites() == [open_site]
    assert services.assignable_sites(closed.id) == [open_site, closed]
