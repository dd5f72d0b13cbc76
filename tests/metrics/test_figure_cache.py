"""The dashboard's figure cache is never stale: any worker's write makes every worker recompute."""

from __future__ import annotations

import pytest

from app.api.tokens import create_token
from app.extensions import db
from tests import factories
from tests.metrics.test_views import tile

NEW = {"title": "Invoice charged twice", "channel": "email", "severity": "high"}


@pytest.fixture()
def two_workers(databases):
    """Two apps (two workers) on one committing database, each with its own figure cache on."""
    first = databases.new_migrated_app(METRICS_CACHE_SECONDS=300)
    second = databases.new_migrated_app(
        DATABASE_URL=first.config["DATABASE_URL"], METRICS_CACHE_SECONDS=300
    )
    with first.app_context():
        user = factories.create_user("quality_lead")
        _, secret = create_token(name="helpdesk", scopes="intake,read")
        db.session.commit()
        email = user.email
    browser = first.test_client()
    response = browser.post("/login", data={"email": email, "password": factories.TEST_PASSWORD})
    assert response.status_code == 302
    return first, second, browser, {"Authorization": f"Bearer {secret}"}


def test_a_complaint_created_through_the_api_shows_on_the_next_dashboard_load(two_workers):
    first, second, browser, auth = two_workers
    assert tile(browser.get("/").get_data(as_text=True), "complaints") == "0"
    assert tile(browser.get("/").get_data(as_text=True), "complaints") == "0"  # cached now
    assert first.extensions["metrics_cache"]._entries  # the figures really are kept

    # The API call lands on the other worker, whose cache the first one never sees.
    response = second.test_client().post("/api/v1/complaints", json=NEW, headers=auth)
    assert response.status_code == 201, response.get_json()

    assert tile(browser.get("/").get_data(as_text=True), "complaints") == "1"


def test_a_read_that_changes_nothing_keeps_the_cached_figures(two_workers, monkeypatch):
    _first, _second, browser, _auth = two_workers
    from app.metrics import services

    computed: list[object] = []
    original = services._dashboard

    def counting(*args, **kwargs):
        computed.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(services, "_dashboard", counting)
    browser.get("/")
    browser.get("/complaints")  # reads only
    browser.get("/")
    assert len(computed) == 1
