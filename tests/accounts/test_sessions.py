"""Server-side sessions: a deactivated user's session ends at their next request, a changed password
or role ends the user's other sessions, and signing out ends the session on the server so a replayed
cookie is refused."""

from __future__ import annotations

from app.accounts import services, sessions
from app.accounts.models import User
from app.extensions import db
from tests.conftest import TEST_PASSWORD


def signed_in_client(app, user):
    client = app.test_client()
    response = client.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    return client


def refused(client) -> bool:
    response = client.get("/")
    return response.status_code == 302 and "/login" in response.headers["Location"]


def cookie_of(client) -> str:
    return client.get_cookie("session").value


def test_a_replayed_cookie_is_refused_after_sign_out(app, db_connection, make_user):
    user = make_user("contributor")
    client = signed_in_client(app, user)
    stolen = cookie_of(client)
    assert client.post("/logout").status_code == 302
    # An attacker who copied the cookie before sign-out presents it again.
    attacker = app.test_client()
    attacker.set_cookie("session", stolen)
    assert refused(attacker)
    with app.app_context():
        assert sessions.live_sessions(db.session.get(User, user.id)) == []


def test_signing_out_on_one_device_leaves_the_other_signed_in(app, db_connection, make_user):
    user = make_user("contributor")
    laptop, phone = signed_in_client(app, user), signed_in_client(app, user)
    laptop.post("/logout")
    assert refused(laptop)
    assert phone.get("/").status_code == 200


def test_a_deactivated_users_session_ends_at_the_next_request(app, db_connection, make_user):
    make_user("admin")
    user = make_user("contributor")
    client = signed_in_client(app, user)
    with app.app_context():
        services.set_active(db.session.get(User, user.id), False)
        db.session.commit()
    assert refused(client)
    with app.app_context():
        services.set_active(db.session.get(User, user.id), True)
        db.session.commit()
    assert refused(client)  # reactivation does not bring the old session back


def test_a_changed_password_ends_the_users_other_sessions(app, db_connection, make_user):
    user = make_user("contributor")
    here, elsewhere = signed_in_client(app, user), signed_in_client(app, user)
    with here.session_transaction() as cookie:
        token = cookie["sid"]
    with app.app_context():
        services.set_password(db.session.get(User, user.id), "a-new-long-password-42", token)
        db.session.commit()
    assert here.get("/").status_code == 200  # the session that changed it goes on
    assert refused(elsewhere)


def test_a_password_set_by_an_administrator_ends_every_session(app, db_connection, make_user):
    user = make_user("contributor")
    client = signed_in_client(app, user)
    result = app.test_cli_runner().invoke(
        args=["users", "set-password", "--email", user.email, "--password-stdin"],
        input="another-long-password-7\n",
    )
    assert result.exit_code == 0, result.output
    assert refused(client)


def test_a_changed_role_ends_the_users_sessions(app, db_connection, make_user):
    admin = make_user("admin")
    user = make_user("contributor")
    client = signed_in_client(app, user)
    admin_client = signed_in_client(app, admin)
    with app.app_context():
        version = db.session.get(User, user.id).version
    response = admin_client.post(
        f"/admin/users/{user.id}",
        data={
            "full_name": user.full_name,
            "role": "auditor",
            "active": "y",
            "version": str(version),
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert refused(client)
    assert admin_client.get("/").status_code == 200  # the administrator's own session goes on
    # Signing in again works, under the new role.
    again = signed_in_client(app, user)
    assert again.get("/audit").status_code == 200
