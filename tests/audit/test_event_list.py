from __future__ import annotations

from app.core.audit import acting_as
from app.extensions import db
from app.organisation.models import Site


def add_sites(app, count: int, actor: str = "system:test") -> None:
    with app.app_context(), acting_as(actor):
        for n in range(count):
            db.session.add(Site(code=f"EV{n}", name=f"Event site {n}"))
        db.session.commit()


def test_auditor_filters_the_log_by_action_and_actor(app, client, login):
    add_sites(app, 2, actor="system:importer")
    login("auditor")
    page = client.get("/audit?action=create&actor=system:importer").get_data(as_text=True)
    assert "Event site 0" in page and "Event site 1" in page
    assert "2 events matching the filters" in page
    nothing = client.get("/audit?action=delete&actor=system:importer").get_data(as_text=True)
    assert "No events match these filters." in nothing


def test_the_log_is_paginated_newest_first(app, client, login, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 3)
    add_sites(app, 7, actor="system:pager")
    login("auditor")
    first = client.get("/audit?actor=system:pager").get_data(as_text=True)
    assert "Page 1 of 3" in first
    assert "Event site 6" in first and "Event site 0" not in first
    last = client.get("/audit?actor=system:pager&page=3").get_data(as_text=True)
    assert "Event site 0" in last and "Event site 6" not in last


def test_a_backwards_date_range_is_explained(client, login):
    login("auditor")
    response = client.get("/audit?date_from=2026-02-01&date_to=2026-01-01")
    assert response.status_code == 422
    assert "The end date is before the start date." in response.get_data(as_text=True)


def test_a_malformed_date_is_a_field_error_not_a_crash(client, login):
    login("quality_lead")
    response = client.get("/audit?date_from=yesterday")
    assert response.status_code == 422
    assert "Not a valid date value." in response.get_data(as_text=True)


def test_behind_a_trusted_proxy_the_forwarded_client_address_is_recorded(databases):
    from sqlalchemy import select

    from app.accounts.models import LoginAttempt

    app = databases.new_migrated_app(LOOP_TRUSTED_PROXIES=1)
    app.test_client().post(
        "/login",
        data={"email": "someone@example.com", "password": "wrong password"},
        headers={"X-Forwarded-For": "203.0.113.9"},
    )
    with app.app_context():
        addresses = db.session.scalars(select(LoginAttempt.remote_addr)).all()
    assert addresses == ["203.0.113.9"]
