"""The site pages: list, create, edit with history, stale saves, refusals."""

from __future__ import annotations

from sqlalchemy import select

from app.core.audit import AuditAction, AuditEvent
from app.extensions import db
from app.organisation import services
from app.organisation.models import Site
from tests.organisation.pages import is_marked_invalid, page_text


def edit_form(site: Site, **changes: str) -> dict[str, str]:
    form = {
        "code": site.code,
        "name": site.name,
        "address": site.address,
        "active": "y" if site.active else "",
        "version": str(site.version),
    }
    return {**form, **changes}


def test_admin_sees_new_button_and_edit_links_on_the_list(client, login, committed):
    site = committed(services.create_site, code="LON", name="London")
    login("admin")
    page = page_text(client.get("/sites"))
    assert 'href="/sites/new"' in page and "New site" in page
    assert f'href="/sites/{site.id}">London</a>' in page


def test_other_roles_see_the_list_without_new_button_or_edit_links(client, login, committed):
    site = committed(services.create_site, code="LON", name="London")
    login("quality_lead")
    response = client.get("/sites")
    page = page_text(response)
    assert response.status_code == 200
    assert "London" in page
    assert "New site" not in page
    assert f"/sites/{site.id}" not in page


def test_create_site_then_see_it_on_the_list(client, login, count):
    login("admin")
    response = client.post(
        "/sites/new", data={"code": "man", "name": "Manchester hub", "address": "2 Sample Road"}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/sites"
    page = page_text(client.get("/sites"))
    assert "Added the site Manchester hub (MAN)." in page
    assert "<td>MAN</td>" in page and "2 Sample Road" in page
    assert count(Site) == 1


def test_invalid_new_site_comes_back_with_errors_and_typed_values(client, login, count):
    login("admin")
    response = client.post("/sites/new", data={"code": "", "name": "Typed name", "address": "Here"})
    page = page_text(response)
    assert response.status_code == 422
    assert "Please correct the fields marked below." in page
    assert "This field is required." in page
    assert 'value="Typed name"' in page and "Here</textarea>" in page
    assert count(Site) == 0


def test_duplicate_code_is_refused_on_the_code_field(client, login, committed, count):
    committed(services.create_site, code="LON", name="London")
    login("admin")
    response = client.post("/sites/new", data={"code": "lon", "name": "London two"})
    page = page_text(response)
    assert response.status_code == 422
    assert is_marked_invalid(page, "code") and not is_marked_invalid(page, "name")
    assert "Another site already has the code LON." in page
    assert count(Site) == 1


def test_edit_page_shows_the_record_and_its_history(client, login, committed):
    site = committed(services.create_site, code="LON", name="London", address="1 Example St")
    login("admin")
    response = client.get(f"/sites/{site.id}")
    page = page_text(response)
    assert response.status_code == 200
    assert 'value="LON"' in page and 'value="London"' in page
    assert f'name="version" type="hidden" value="{site.version}"' in page
    assert 'data-testid="record-history"' in page and "Create" in page


def test_edit_site_saves_shows_on_the_list_and_lands_in_the_audit_trail(
    client, login, committed, fetch
):
    site = committed(services.create_site, code="LON", name="London")
    admin = login("admin")
    response = client.post(f"/sites/{site.id}", data=edit_form(site, name="London West"))
    assert response.status_code == 302
    assert response.headers["Location"] == "/sites"
    list_page = page_text(client.get("/sites"))
    assert "Saved the site London West." in list_page
    assert f'href="/sites/{site.id}">London West</a>' in list_page
    assert fetch(Site, site.id).name == "London West"

    events = committed(
        lambda: list(
            db.session.scalars(
                select(AuditEvent).where(
                    AuditEvent.record_type == "site",
                    AuditEvent.record_id == str(site.id),
                    AuditEvent.action == AuditAction.UPDATE,
                )
            )
        )
    )
    assert len(events) == 1
    assert events[0].changes_dict == {"name": ["London", "London West"]}
    assert events[0].actor == admin.email

    history = page_text(client.get(f"/sites/{site.id}"))
    assert "Update" in history and "London West" in history


def test_invalid_edit_keeps_typed_values_and_saves_nothing(client, login, committed, fetch):
    site = committed(services.create_site, code="LON", name="London")
    login("admin")
    response = client.post(
        f"/sites/{site.id}", data=edit_form(site, code="LON 2", name="London typed")
    )
    page = page_text(response)
    assert response.status_code == 422
    assert "only letters, digits, hyphens and underscores" in page
    assert 'value="London typed"' in page
    stored = fetch(Site, site.id)
    assert (stored.code, stored.name, stored.version) == ("LON", "London", site.version)


def test_stale_edit_is_refused_with_a_reload_link_and_overwrites_nothing(
    client, login, committed, fetch
):
    site = committed(services.create_site, code="LON", name="London")
    login("admin")
    opened = edit_form(site)  # the admin opens the form ...

    def colleague_saves() -> None:  # ... a colleague saves first ...
        stored = db.session.get(Site, site.id)
        services.update_site(
            stored,
            code="LON",
            name="London (colleague)",
            address="",
            active=True,
            expected_version=stored.version,
        )

    committed(colleague_saves)
    response = client.post(f"/sites/{site.id}", data={**opened, "name": "London (mine)"})
    page = page_text(response)
    assert response.status_code == 422
    assert "was changed by someone else since you opened it. Reload the page" in page
    assert f'href="/sites/{site.id}">Reload the current version</a>' in page
    assert 'value="London (mine)"' in page  # what the admin typed is still there to copy
    assert fetch(Site, site.id).name == "London (colleague)"


def test_missing_site_is_404(client, login):
    login("admin")
    assert client.get("/sites/999999").status_code == 404
    assert client.post("/sites/999999", data={"code": "X", "name": "X"}).status_code == 404
