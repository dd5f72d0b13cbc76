"""The process pages: owner and site choices, create, edit, stale saves, and no N+1 on the list."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.accounts.models import User
from app.accounts.services import set_active
from app.core.audit import AuditAction, AuditEvent
from app.extensions import db
from app.organisation import services
from app.organisation.models import Process
from tests.organisation.pages import options_of, page_text


def edit_form(process: Process, **changes: str) -> dict[str, str]:
    form = {
        "name": process.name,
        "description": process.description,
        "owner_id": str(process.owner_id or ""),
        "site_id": str(process.site_id or ""),
        "active": "y" if process.active else "",
        "version": str(process.version),
    }
    return {**form, **changes}


def deactivate(user_id: int) -> None:
    set_active(db.session.get(User, user_id), False)


def test_new_process_form_offers_active_users_and_sites_only(client, login, make_user, committed):
    login("admin", full_name="Ada Admin")
    make_user("contributor", full_name="Olive Owner")
    leaver = make_user("contributor", full_name="Lee Leaver")
    committed(deactivate, leaver.id)
    committed(services.create_site, code="LON", name="London")
    committed(services.create_site, code="OLD", name="Old depot", active=False)
    page = page_text(client.get("/processes/new"))
    assert options_of(page, "owner_id") == ["— none —", "Ada Admin", "Olive Owner"]
    assert options_of(page, "site_id") == ["— none —", "London"]


def test_create_process_then_see_owner_and_site_on_the_list(
    client, login, make_user, committed, count
):
    login("admin")
    owner = make_user("contributor", full_name="Olive Owner")
    site = committed(services.create_site, code="LON", name="London")
    response = client.post(
        "/processes/new",
        data={
            "name": "Billing",
            "description": "Invoices and refunds",
            "owner_id": str(owner.id),
            "site_id": str(site.id),
            "active": "y",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/processes"
    page = page_text(client.get("/processes"))
    assert "Added the process Billing." in page
    row = re.search(r"<tr><td><a [^>]*>Billing</a></td>(.*?)</tr>", page, re.S)
    assert row and "Olive Owner" in row[1] and "London" in row[1] and "Active" in row[1]
    assert count(Process) == 1


def test_unknown_owner_is_refused_and_nothing_saved(client, login, count):
    login("admin")
    response = client.post(
        "/processes/new", data={"name": "Billing", "owner_id": "999999", "site_id": ""}
    )
    assert response.status_code == 422
    assert "Not a valid choice." in page_text(response)
    assert 'value="Billing"' in page_text(response)
    assert count(Process) == 0


def test_duplicate_process_name_is_refused_on_the_name_field(client, login, committed, count):
    committed(services.create_process, name="Billing")
    login("admin")
    response = client.post("/processes/new", data={"name": "BILLING", "owner_id": ""})
    assert response.status_code == 422
    assert "Another process is already called 'BILLING'." in page_text(response)
    assert count(Process) == 1


def test_edit_keeps_a_deactivated_owner_selectable(client, login, make_user, committed):
    login("admin")
    owner = make_user("contributor", full_name="Lee Leaver")
    process = committed(services.create_process, name="Billing", owner_id=owner.id)
    committed(deactivate, owner.id)
    page = page_text(client.get(f"/processes/{process.id}"))
    assert "Lee Leaver (deactivated)" in options_of(page, "owner_id")
    assert re.search(rf'<option selected value="{owner.id}">', page)


def test_edit_process_saves_shows_on_the_list_and_lands_in_the_audit_trail(
    client, login, make_user, committed, fetch
):
    first = make_user("contributor", full_name="First Owner")
    second = make_user("contributor", full_name="Second Owner")
    process = committed(services.create_process, name="Billing", owner_id=first.id)
    login("admin")
    response = client.post(
        f"/processes/{process.id}",
        data=edit_form(process, name="Billing and payments", owner_id=str(second.id)),
    )
    assert response.status_code == 302
    page = page_text(client.get("/processes"))
    assert "Saved the process Billing and payments." in page
    assert "Second Owner" in page and "First Owner" not in page
    stored = fetch(Process, process.id)
    assert (stored.name, stored.owner_id) == ("Billing and payments", second.id)
    update = committed(
        lambda: db.session.scalar(
            select(AuditEvent).where(
                AuditEvent.record_type == "process",
                AuditEvent.record_id == str(process.id),
                AuditEvent.action == AuditAction.UPDATE,
            )
        )
    )
    assert update.changes_dict == {
        "name": ["Billing", "Billing and payments"],
        "owner_id": [first.id, second.id],
        "owner": ["First Owner", "Second Owner"],
    }


def test_stale_process_edit_is_refused_and_overwrites_nothing(client, login, committed, fetch):
    process = committed(services.create_process, name="Billing", description="v1")
    login("admin")
    opened = edit_form(process)

    def colleague_saves() -> None:
        stored = db.session.get(Process, process.id)
        services.update_process(
            stored,
            name="Billing",
            description="colleague's description",
            owner_id=None,
            site_id=None,
            active=True,
            expected_version=stored.version,
        )

    committed(colleague_saves)
    response = client.post(f"/processes/{process.id}", data={**opened, "description": "mine"})
    page = page_text(response)
    assert response.status_code == 422
    assert "The process Billing was changed by someone else since you opened it." in page
    assert "Reload the current version" in page
    assert fetch(Process, process.id).description == "colleague's description"


def test_missing_process_is_404(client, login):
    login("admin")
    assert client.get("/processes/999999").status_code == 404


def test_contributor_sees_processes_without_edit_links(client, login, committed):
    process = committed(services.create_process, name="Billing")
    login("contributor")
    page = page_text(client.get("/processes"))
    assert "Billing" in page
    assert "New process" not in page and f"/processes/{process.id}" not in page


def test_process_list_queries_do_not_grow_with_the_number_of_processes(
    client, login, make_user, committed, count_queries
):
    login("auditor")

    def add_processes(start: int, how_many: int) -> None:
        for number in range(start, start + how_many):
            owner = make_user("contributor")
            site = services.create_site(code=f"S{number}", name=f"Site {number}")
            services.create_process(name=f"Process {number}", owner_id=owner.id, site_id=site.id)

    committed(add_processes, 1, 2)
    with_two = count_queries(lambda: client.get("/processes"))
    committed(add_processes, 3, 10)
    with_twelve = count_queries(lambda: client.get("/processes"))
    page = page_text(client.get("/processes"))
    assert "Process 12" in page and "Site 12" in page
    assert with_twelve == with_two
