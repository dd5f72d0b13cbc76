"""API tokens: created with scopes and shown once, kept as a hash, revoked, their last use
stamped; from the admin pages and from the CLI."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.api import tokens
from app.api.models import ApiToken
from app.core.audit import AuditAction, AuditEvent
from app.core.errors import ServiceError
from app.extensions import db

TOKEN_PATTERN = re.compile(r"loop_[A-Za-z0-9_-]{43}")


def test_a_token_is_kept_only_as_its_hash(session) -> None:
    token, secret = tokens.create_token(name="Zendesk", scopes="read,intake")
    assert TOKEN_PATTERN.fullmatch(secret)
    assert token.token_hash == tokens.hash_token(secret) != secret
    assert secret not in (token.prefix + token.token_hash)
    assert secret.startswith(token.prefix)
    assert token.scopes == "intake,read"
    event = session.scalar(
        select(AuditEvent).where(
            AuditEvent.record_type == "api_token", AuditEvent.action == AuditAction.CREATE
        )
    )
    # The audit trail names the integration and scopes, never the hash.
    assert event.changes_dict["name"] == [None, "Zendesk"]
    assert token.token_hash not in str(event.changes_dict)


@pytest.mark.parametrize(
    ("name", "scopes", "message"),
    [
        ("", "read", "Name the integration"),
        ("ok", "read,admin", "Unknown scope admin; choose from read, intake, write, metrics."),
        ("ok", " , ", "Choose at least one scope."),
    ],
)
def test_refused_tokens(session, name, scopes, message) -> None:
    with pytest.raises(ServiceError, match=re.escape(message)):
        tokens.create_token(name=name, scopes=scopes)


def test_names_are_unique(session) -> None:
    tokens.create_token(name="webform", scopes="intake")
    with pytest.raises(ServiceError, match="already a token named webform"):
        tokens.create_token(name="webform", scopes="read")


def test_authentication_stamps_the_last_use_and_ignores_revoked_tokens(session) -> None:
    token, secret = tokens.create_token(name="desk", scopes="read")
    assert tokens.authenticate(secret) is token
    from app.core.db import commit_kept_writes

    commit_kept_writes(session)
    assert token.last_used_at is not None
    assert tokens.authenticate(secret + "x") is None
    tokens.revoke_token(token)
    assert tokens.authenticate(secret) is None
    with pytest.raises(ServiceError, match="already revoked"):
        tokens.revoke_token(token)


def test_the_actor_role_follows_the_scopes() -> None:
    actor = tokens.ApiActor(token_id=1, name="x", scopes=frozenset({"read"}))
    assert actor.role == "auditor"
    assert tokens.ApiActor(1, "x", frozenset({"intake", "read"})).role == "contributor"
    assert tokens.ApiActor(1, "x", frozenset({"write"})).role == "quality_lead"
    assert actor.actor == "api:x"


# --- admin pages ---------------------------------------------------------------------------------


def test_an_admin_creates_a_token_and_sees_it_once(client, login, count) -> None:
    login("admin")
    response = client.post(
        "/admin/tokens/new", data={"name": "Contact centre", "scope_intake": "y", "scope_read": "y"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 201
    [secret] = TOKEN_PATTERN.findall(page)
    assert "shown only this once" in page

    listing = client.get("/admin/tokens").get_data(as_text=True)
    assert "Contact centre" in listing and "intake, read" in listing
    assert secret not in listing
    assert "Never" in listing

    api = client.get("/api/v1/channels", headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 200
    listing = client.get("/admin/tokens").get_data(as_text=True)
    assert "Never" not in listing  # the last use is shown


def test_the_form_refuses_a_token_without_scopes(client, login, count) -> None:
    login("admin")
    response = client.post("/admin/tokens/new", data={"name": "Nothing"})
    assert response.status_code == 422
    assert "Choose at least one scope." in response.get_data(as_text=True)
    assert count(ApiToken) == 0


def test_an_admin_revokes_a_token(client, login, app) -> None:
    admin = login("admin")
    with app.app_context():
        token, secret = tokens.create_token(name="old", scopes="read")
        db.session.commit()
        token_id = token.id
    response = client.post(f"/admin/tokens/{token_id}/revoke")
    assert response.status_code == 302
    page = client.get("/admin/tokens").get_data(as_text=True)
    assert "Revoked the token of old; it no longer works." in page
    assert "Revoked" in page
    api = client.get("/api/v1/channels", headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 401
    with app.app_context():
        assert db.session.get(ApiToken, token_id).revoked_by_id == admin.id


# --- CLI ---------------------------------------------------------------------------------------


def test_the_cli_creates_lists_and_revokes_tokens(databases) -> None:
    app = databases.new_migrated_app()
    runner = app.test_cli_runner()
    created = runner.invoke(
        args=["tokens", "create", "--name", "zendesk", "--scopes", "intake,read"]
    )
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip()
    assert TOKEN_PATTERN.fullmatch(secret)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/channels", headers=headers).status_code == 200

    listed = runner.invoke(args=["tokens", "list"])
    assert "zendesk" in listed.output and "intake,read" in listed.output
    assert secret not in listed.output

    bad = runner.invoke(args=["tokens", "create", "--name", "x", "--scopes", "everything"])
    assert bad.exit_code != 0
    assert "Unknown scope everything" in bad.output

    revoked = runner.invoke(args=["tokens", "revoke", "--name", "zendesk"])
    assert revoked.exit_code == 0 and "Revoked the token of zendesk." in revoked.output
    assert client.get("/api/v1/channels", headers=headers).status_code == 401
    with app.app_context():
        event = db.session.scalar(
            select(AuditEvent)
            .where(AuditEvent.record_type == "api_token")
            .order_by(AuditEvent.id.desc())
        )
        assert event.actor == "system:cli"


def test_a_refused_call_still_counts_as_a_use(client, make_token, app) -> None:
    headers = make_token("read", name="refused-user")
    response = client.post("/api/v1/complaints", json={}, headers=headers)  # no intake scope
    assert response.status_code == 403
    with app.app_context():
        assert tokens.get_token_by_name("refused-user").last_used_at is not None
