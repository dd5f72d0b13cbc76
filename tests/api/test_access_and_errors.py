"""Who may call what: tokens, scopes, revocation, browser sessions (never), the per-token rate
limit; and every kind of error answered as application/problem+json."""

from __future__ import annotations

import pytest

from app.api.tokens import revoke_token
from app.extensions import db

NEW = {"title": "No signal at home", "channel": "phone", "severity": "medium"}

# Each operation, with a request and the scope it needs.
SCOPED_CALLS = [
    ("GET", "/api/v1/complaints", "/api/v1/complaints", None, "read"),
    ("POST", "/api/v1/complaints", "/api/v1/complaints", NEW, "intake"),
    (
        "GET",
        "/api/v1/complaints/CMP-2020-000001",
        "/api/v1/complaints/{reference}",
        None,
        "read",
    ),
    (
        "POST",
        "/api/v1/complaints/CMP-2020-000001/transitions",
        "/api/v1/complaints/{reference}/transitions",
        {"name": "acknowledge"},
        "write",
    ),
    (
        "POST",
        "/api/v1/complaints/CMP-2020-000001/recovery-actions",
        "/api/v1/complaints/{reference}/recovery-actions",
        {"kind": "apology"},
        "write",
    ),
    (
        "POST",
        "/api/v1/complaints/CMP-2020-000001/satisfaction",
        "/api/v1/complaints/{reference}/satisfaction",
        {"score": 5},
        "write",
    ),
    (
        "PUT",
        "/api/v1/customers/C-1",
        "/api/v1/customers/{external_id}",
        {"name": "N", "segment": "consumer"},
        "intake",
    ),
    ("GET", "/api/v1/customers/C-1", "/api/v1/customers/{external_id}", None, "read"),
    ("GET", "/api/v1/nonconformities", "/api/v1/nonconformities", None, "read"),
    (
        "GET",
        "/api/v1/nonconformities/NC-2020-000001",
        "/api/v1/nonconformities/{reference}",
        None,
        "read",
    ),
    ("GET", "/api/v1/capas", "/api/v1/capas", None, "read"),
    ("GET", "/api/v1/capas/CAPA-2020-000001", "/api/v1/capas/{reference}", None, "read"),
    ("GET", "/api/v1/processes", "/api/v1/processes", None, "read"),
    ("GET", "/api/v1/categories", "/api/v1/categories", None, "read"),
    ("GET", "/api/v1/channels", "/api/v1/channels", None, "read"),
    ("GET", "/api/v1/principles", "/api/v1/principles", None, "read"),
    (
        "POST",
        "/api/v1/metrics/web_visits/values",
        "/api/v1/metrics/{key}/values",
        {"period": "2026-01", "value": 1},
        "metrics",
    ),
]
ALL_SCOPES = ("read", "intake", "write", "metrics")


def test_the_table_names_every_operation(openapi) -> None:
    documented = {
        (method.upper(), path) for path, item in openapi["paths"].items() for method in item
    }
    tabled = {
        (method, template.removeprefix("/api/v1")) for method, _, template, *_ in SCOPED_CALLS
    }
    assert tabled == documented
    for method, _, template, _, scope in SCOPED_CALLS:
        security = openapi["paths"][template.removeprefix("/api/v1")][method.lower()]["security"]
        assert security == [{"token": [scope]}]


@pytest.mark.parametrize(("method", "path", "template", "body", "scope"), SCOPED_CALLS)
def test_each_operation_needs_its_scope(
    method, path, template, body, scope, client, make_token, conforms
) -> None:
    for held in ALL_SCOPES:
        response = client.open(path, method=method, json=body, headers=make_token(held))
        conforms(response, method, template)
        if held == scope:
            assert response.status_code not in (401, 403), response.get_json()
        else:
            assert response.status_code == 403
            assert f"needs the '{scope}' scope" in response.get_json()["detail"]


@pytest.mark.parametrize(("method", "path", "template", "body", "scope"), SCOPED_CALLS)
def test_each_operation_refuses_calls_without_a_token(
    method, path, template, body, scope, client, conforms
) -> None:
    response = client.open(path, method=method, json=body)
    problem = conforms(response, method, template)
    assert response.status_code == 401
    assert problem["title"] == "Authentication required"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_an_unknown_token_is_refused(client, conforms) -> None:
    response = client.get("/api/v1/complaints", headers={"Authorization": "Bearer loop_nope"})
    assert conforms(response, "GET", "/api/v1/complaints")["title"] == "Invalid token"


def test_a_revoked_token_stops_working_at_once(client, make_token, app, conforms) -> None:
    headers = make_token("read", name="old-desk")
    assert client.get("/api/v1/channels", headers=headers).status_code == 200
    with app.app_context():
        from app.api.tokens import get_token_by_name

        revoke_token(get_token_by_name("old-desk"))
        db.session.commit()
    response = client.get("/api/v1/channels", headers=headers)
    assert response.status_code == 401
    assert conforms(response, "GET", "/api/v1/channels")["detail"] == (
        "The API token is unknown or was revoked."
    )


def test_a_browser_session_does_not_authenticate_api_calls(client, login, conforms) -> None:
    login("quality_lead")
    assert client.get("/complaints").status_code == 200  # signed in for the browser
    response = client.get("/api/v1/complaints")
    assert response.status_code == 401
    conforms(response, "GET", "/api/v1/complaints")
    response = client.post("/api/v1/complaints", json=NEW)
    assert response.status_code == 401
    assert "Set-Cookie" not in response.headers


def test_no_csrf_token_is_needed_with_an_api_token(databases, conforms) -> None:
    from app.api.tokens import create_token

    app = databases.new_migrated_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        _, secret = create_token(name="csrf-check", scopes="intake")
        db.session.commit()
    response = app.test_client().post(
        "/api/v1/complaints", json=NEW, headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 201
    conforms(response, "POST", "/api/v1/complaints")


def test_each_token_has_its_own_rate_limit(databases, conforms) -> None:
    from app.api.tokens import create_token

    app = databases.new_migrated_app(API_RATE_LIMIT="3 per minute")
    with app.app_context():
        _, busy = create_token(name="busy", scopes="read")
        _, calm = create_token(name="calm", scopes="read")
        db.session.commit()
    client = app.test_client()
    busy_headers = {"Authorization": f"Bearer {busy}"}
    answers = [client.get("/api/v1/channels", headers=busy_headers) for _ in range(4)]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    problem = conforms(answers[-1], "GET", "/api/v1/channels")
    assert problem["title"] == "Too many requests"
    assert 1 <= int(answers[-1].headers["Retry-After"]) <= 60
    calm_answer = client.get("/api/v1/channels", headers={"Authorization": f"Bearer {calm}"})
    assert calm_answer.status_code == 200


def test_unknown_urls_and_methods_are_json_problems(client, auth) -> None:
    response = client.get("/api/v1/tickets", headers=auth)
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["title"] == "Not Found"

    response = client.delete("/api/v1/complaints", headers=auth)
    assert response.status_code == 405
    assert response.mimetype == "application/problem+json"
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}


def test_a_body_that_is_not_json_is_refused(client, auth, conforms) -> None:
    response = client.post(
        "/api/v1/complaints", data="title=x", headers=auth, content_type="text/plain"
    )
    assert response.status_code == 415
    conforms(response, "POST", "/api/v1/complaints")

    response = client.post(
        "/api/v1/complaints", data="{not json", headers=auth, content_type="application/json"
    )
    assert response.status_code == 400
    assert conforms(response, "POST", "/api/v1/complaints")["title"] == "Malformed JSON"

    response = client.post("/api/v1/complaints", json=["a list"], headers=auth)
    assert response.status_code == 422
    conforms(response, "POST", "/api/v1/complaints")


def test_a_too_large_body_is_refused(databases, conforms) -> None:
    from app.api.tokens import create_token

    app = databases.new_migrated_app(API_MAX_BODY_BYTES=200)
    with app.app_context():
        _, secret = create_token(name="big", scopes="intake")
        db.session.commit()
    response = app.test_client().post(
        "/api/v1/complaints",
        json={**NEW, "description": "x" * 500},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 413
    conforms(response, "POST", "/api/v1/complaints")


def test_an_unexpected_error_is_a_problem_not_a_page(databases, monkeypatch) -> None:
    from app.api import services as api_services
    from app.api.tokens import create_token

    app = databases.new_migrated_app(TESTING=False)
    with app.app_context():
        _, secret = create_token(name="crash", scopes="read")
        db.session.commit()

    def broken(query):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(api_services, "capa_page", broken)
    response = app.test_client().get("/api/v1/capas", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["detail"] == "Something went wrong; nothing was saved."


def test_the_openapi_document_is_public_and_3_1(client) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    assert document["components"]["securitySchemes"]["token"]["scheme"] == "bearer"
    body = document["paths"]["/complaints"]["post"]["requestBody"]["content"]
    schema = document["components"]["schemas"]["ComplaintIn"]
    assert body["application/json"]["schema"] == {"$ref": "#/components/schemas/ComplaintIn"}
    # The same schema validates requests: its limits are the ones the document states.
    assert schema["properties"]["title"]["maxLength"] == 200
    assert schema["additionalProperties"] is False


def test_the_api_page_is_rendered_from_the_document(client) -> None:
    response = client.get("/api")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "/api/v1/complaints/{reference}/recovery-actions" in page
    assert "Record a customer recovery action" in page
    assert 'id="schema-ComplaintIn"' in page
    assert "<script" not in page.split("</nav>", 1)[1].split("</main>", 1)[0]


def test_nul_characters_are_refused_not_a_database_error(client, auth, conforms) -> None:
    # PostgreSQL text cannot hold NUL: without these checks each would be a 500 there.
    body = {"title": "a\u0000b", "channel": "email", "severity": "low"}
    response = client.post("/api/v1/complaints", json=body, headers=auth)
    problem = conforms(response, "POST", "/api/v1/complaints")
    assert response.status_code == 422
    assert problem["errors"] == [{"field": "title", "message": "Contains a NUL character."}]

    response = client.get("/api/v1/complaints?source_system=a%00b", headers=auth)
    assert conforms(response, "GET", "/api/v1/complaints")["status"] == 422

    response = client.get("/api/v1/complaints/CMP%00X", headers=auth)
    assert conforms(response, "GET", "/api/v1/complaints/{reference}")["status"] == 404

    response = client.put(
        "/api/v1/customers/a%00b", json={"name": "N", "segment": "consumer"}, headers=auth
    )
    assert conforms(response, "PUT", "/api/v1/customers/{external_id}")["status"] == 404
