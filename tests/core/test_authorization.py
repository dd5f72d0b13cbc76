"""Every route × every role: the status each may get. A new route must be added here to pass."""

from __future__ import annotations

import pytest
from flask import Flask

from app.organisation.models import Category, Customer, CustomerSegment, Process, Site
from tests.conftest import TEST_PASSWORD

ROLES = ["anonymous", "admin", "quality_lead", "contributor", "auditor"]
LOGIN = "login"  # anonymous users are sent to the sign-in page


def statuses(anonymous, admin, quality_lead, contributor, auditor) -> dict[str, object]:
    return dict(zip(ROLES, [anonymous, admin, quality_lead, contributor, auditor], strict=True))


EVERYONE_SIGNED_IN = statuses(LOGIN, 200, 200, 200, 200)
ADMIN_ONLY = statuses(LOGIN, 200, 403, 403, 403)
AUDIT_READERS = statuses(LOGIN, 200, 200, 403, 200)
CUSTOMER_EDITORS = statuses(LOGIN, 200, 200, 403, 403)  # also category editors

# (method, path template, endpoint, expected status by role)
ROUTES = [
    ("GET", "/login", "accounts.login", statuses(200, 302, 302, 302, 302)),
    ("POST", "/logout", "accounts.logout", statuses(302, 302, 302, 302, 302)),
    ("GET", "/", "metrics.dashboard", EVERYONE_SIGNED_IN),
    ("GET", "/admin/users", "accounts.user_list", ADMIN_ONLY),
    ("GET", "/admin/users/new", "accounts.user_new", ADMIN_ONLY),
    ("POST", "/admin/users/new", "accounts.user_new", statuses(LOGIN, 422, 403, 403, 403)),
    ("GET", "/admin/users/{user_id}", "accounts.user_edit", ADMIN_ONLY),
    ("GET", "/audit", "audit.event_list", AUDIT_READERS),
    ("GET", "/audit/verify", "audit.verify", AUDIT_READERS),
    ("GET", "/principles", "organisation.principle_list", EVERYONE_SIGNED_IN),
    ("GET", "/sites", "organisation.site_list", EVERYONE_SIGNED_IN),
    ("GET", "/sites/new", "organisation.site_new", ADMIN_ONLY),
    ("POST", "/sites/new", "organisation.site_new", statuses(LOGIN, 422, 403, 403, 403)),
    ("GET", "/sites/{site_id}", "organisation.site_edit", ADMIN_ONLY),
    ("GET", "/processes", "organisation.process_list", EVERYONE_SIGNED_IN),
    ("GET", "/processes/new", "organisation.process_new", ADMIN_ONLY),
    ("GET", "/processes/{process_id}", "organisation.process_edit", ADMIN_ONLY),
    ("GET", "/customers", "organisation.customer_list", EVERYONE_SIGNED_IN),
    ("GET", "/customers/new", "organisation.customer_new", CUSTOMER_EDITORS),
    ("POST", "/customers/new", "organisation.customer_new", statuses(LOGIN, 422, 422, 403, 403)),
    ("GET", "/customers/{customer_id}", "organisation.customer_edit", CUSTOMER_EDITORS),
    ("GET", "/categories", "organisation.category_list", EVERYONE_SIGNED_IN),
    ("GET", "/categories/new", "organisation.category_new", CUSTOMER_EDITORS),
    ("POST", "/categories/new", "organisation.category_new", statuses(LOGIN, 422, 422, 403, 403)),
    ("GET", "/categories/{category_id}", "organisation.category_edit", CUSTOMER_EDITORS),
]


def test_the_table_covers_every_route(app: Flask) -> None:
    covered = {endpoint for _, _, endpoint, _ in ROUTES}
    routed = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint != "static"}
    assert routed - covered == set(), "routes missing from the authorization table"
    assert covered - routed == set(), "the table names routes that do not exist"


def test_every_view_declares_its_permission(app: Flask) -> None:
    undeclared = [
        endpoint
        for endpoint, view in app.view_functions.items()
        if endpoint != "static" and not hasattr(view, "required_permission")
    ]
    assert undeclared == []


@pytest.fixture()
def sample_ids(app: Flask, make_user, db_connection) -> dict[str, int]:
    from app.extensions import db

    user = make_user("contributor")
    with app.app_context():
        site = Site(code="AZ", name="Authz site")
        process = Process(name="Authz process", site=site)
        customer = Customer(name="Authz customer", segment=CustomerSegment.CONSUMER)
        category = Category(name="Authz category")
        db.session.add_all([site, process, customer, category])
        db.session.commit()
        return {
            "user_id": user.id,
            "site_id": site.id,
            "process_id": process.id,
            "customer_id": customer.id,
            "category_id": category.id,
        }


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_the_expected_status_on_every_route(
    role: str, app: Flask, client, make_user, sample_ids
) -> None:
    if role != "anonymous":
        user = make_user(role)
        response = client.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
        assert response.status_code == 302
    failures = []
    for method, template, endpoint, expected_by_role in ROUTES:
        path = template.format(**sample_ids)
        # An empty POST is invalid input: permitted roles get the form back (422), never a save.
        response = client.open(path, method=method, data={})
        expected = expected_by_role[role]
        if expected == LOGIN:
            ok = response.status_code == 302 and "/login" in response.headers["Location"]
        else:
            ok = response.status_code == expected
        if not ok:
            failures.append(
                f"{method} {path} ({endpoint}): got {response.status_code}, want {expected}"
            )
        if endpoint == "accounts.logout" and role != "anonymous":
            client.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
    assert failures == []
