from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from app import create_app
from app.accounts.models import LoginAttempt
from app.core.audit import AuditAction, AuditEvent
from tests.conftest import TEST_PASSWORD

GENERIC = "The e-mail or password is not right"


def sign_in(client, email: str, password: str = TEST_PASSWORD, **kwargs):
    return client.post("/login", data={"email": email, "password": password, **kwargs})


def audit_actions(session, user_id: int | None = None, action=None) -> list:
    query = select(AuditEvent)
    if user_id is not None:
        query = query.where(AuditEvent.record_id == str(user_id))
    if action is not None:
        query = query.where(AuditEvent.action == action)
    return list(session.scalars(query.order_by(AuditEvent.id)))


def test_sign_in_lands_on_dashboard_and_is_audited(client, make_user, session):
    user = make_user("contributor", full_name="Robin Frontline")
    response = sign_in(client, user.email)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Dashboard" in page
    assert "Robin Frontline" in page
    events = audit_actions(session, user.id, AuditAction.LOGIN)
    assert len(events) == 1
    assert events[0].actor == user.email


def test_e_mail_is_matched_without_regard_to_case(client, make_user):
    user = make_user("auditor")
    assert sign_in(client, user.email.upper()).status_code == 302


def test_wrong_password_and_unknown_e_mail_get_the_same_message(client, make_user, session):
    user = make_user("contributor")
    wrong = sign_in(client, user.email, "not the password at all")
    unknown = sign_in(client, "nobody-here@example.com", "not the password at all")
    assert wrong.status_code == unknown.status_code == 200
    wrong_page, unknown_page = wrong.get_data(as_text=True), unknown.get_data(as_text=True)
    assert GENERIC in wrong_page and GENERIC in unknown_page
    assert "not the password at all" not in wrong_page  # the password is never echoed back
    failed = audit_actions(session, action=AuditAction.LOGIN_FAILED)
    assert {event.changes_dict["email"][1] for event in failed} == {
        user.email,
        "nobody-here@example.com",
    }


def test_account_locks_after_repeated_failures_even_for_the_right_password(
    client, make_user, session
):
    user = make_user("quality_lead")
    other = make_user("quality_lead")
    for _ in range(5):
        assert sign_in(client, user.email, "wrong password 123").status_code == 200
    locked = sign_in(client, user.email)
    assert locked.status_code == 200
    assert GENERIC in locked.get_data(as_text=True)
    assert sign_in(client, other.email).status_code == 302  # others are not affected
    causes = [e.changes_dict["cause"][1] for e in audit_actions(session, user.id, "login_failed")]
    assert causes[-1] == "locked"


def test_lock_counts_live_in_the_database(client, make_user, session):
    user = make_user("contributor")
    for _ in range(3):
        sign_in(client, user.email, "wrong password 123")
    count = session.scalar(
        select(func.count()).select_from(LoginAttempt).where(LoginAttempt.email == user.email)
    )
    assert count == 3


def test_too_many_failures_from_one_address_are_refused(app, client, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_IP_LIMIT", 3)
    user = make_user("contributor")
    for n in range(3):
        sign_in(client, f"guess{n}@example.com", "wrong password 123")
    response = sign_in(client, user.email)
    assert response.status_code == 200
    assert GENERIC in response.get_data(as_text=True)


def test_deactivated_user_cannot_sign_in(client, make_user, app):
    from app.accounts.services import set_active
    from app.extensions import db

    admin = make_user("admin")  # keeps an active administrator around
    user = make_user("contributor")
    with app.app_context():
        set_active(db.session.get(type(user), user.id), False)
        db.session.commit()
    assert admin.active
    assert sign_in(client, user.email).status_code == 200


def test_sign_in_starts_a_new_session(client, make_user):
    user = make_user("contributor")
    with client.session_transaction() as cookie_session:
        cookie_session["planted"] = "by an attacker"
    sign_in(client, user.email)
    with client.session_transaction() as cookie_session:
        assert "planted" not in cookie_session
        assert "_user_id" in cookie_session


@pytest.mark.parametrize(
    ("next_url", "lands_on"),
    [
        ("/audit", "/audit"),
        ("https://evil.example.com/", "/"),
        ("//evil.example.com/", "/"),
        ("/\\evil.example.com", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_next_redirects_only_to_local_paths(client, make_user, next_url, lands_on):
    user = make_user("auditor")
    response = sign_in(client, user.email, next=next_url)
    assert response.status_code == 302
    assert response.headers["Location"] == lands_on


def test_idle_session_expires(client, make_user, app):
    user = make_user("contributor")
    sign_in(client, user.email)
    idle = app.config["SESSION_IDLE_TIMEOUT"].total_seconds()
    with client.session_transaction() as cookie_session:
        cookie_session["last_seen"] = time.time() - idle - 5
    response = client.get("/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your session expired" in page


def test_session_expires_after_absolute_limit_despite_activity(client, make_user, app):
    user = make_user("contributor")
    sign_in(client, user.email)
    absolute = app.config["SESSION_ABSOLUTE_TIMEOUT"].total_seconds()
    with client.session_transaction() as cookie_session:
        cookie_session["signed_in_at"] = time.time() - absolute - 5
    assert client.get("/").status_code == 302


def test_deactivating_a_user_ends_their_open_session(client, make_user, app):
    from app.accounts.services import set_active
    from app.extensions import db

    make_user("admin")
    user = make_user("contributor")
    sign_in(client, user.email)
    assert client.get("/").status_code == 200
    with app.app_context():
        set_active(db.session.get(type(user), user.id), False)
        db.session.commit()
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_sign_out_ends_the_session_and_is_audited(client, make_user, session):
    user = make_user("contributor")
    sign_in(client, user.email)
    response = client.post("/logout")
    assert response.status_code == 302
    assert client.get("/").status_code == 302
    assert len(audit_actions(session, user.id, AuditAction.LOGOUT)) == 1


def test_invalid_login_form_keeps_the_e_mail(client):
    response = client.post("/login", data={"email": "someone@example.com", "password": ""})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'value="someone@example.com"' in page
    assert "This field is required." in page


def test_missing_csrf_token_says_the_form_expired(databases):
    app = create_app({"DATABASE_URL": databases.new_url(), "WTF_CSRF_ENABLED": True})
    response = app.test_client().post("/login", data={"email": "a@example.com", "password": "x"})
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
