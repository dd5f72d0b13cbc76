from __future__ import annotations

from sqlalchemy import func, select

from app.accounts.models import User


def user_count(session) -> int:
    return session.scalar(select(func.count(User.id)))


def test_admin_creates_a_user_who_can_then_sign_in(app, client, login, session):
    login("admin")
    response = client.post(
        "/admin/users/new",
        data={
            "email": "Morgan.Reyes@Example.com",
            "full_name": "Morgan Reyes",
            "role": "quality_lead",
            "password": "twelve chars or more",
        },
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "Morgan Reyes can now sign in as quality lead." in page
    assert "morgan.reyes@example.com" in page
    other = app.test_client()
    signed_in = other.post(
        "/login", data={"email": "morgan.reyes@example.com", "password": "twelve chars or more"}
    )
    assert signed_in.status_code == 302


def test_bad_input_re_renders_with_field_errors_and_saves_nothing(client, login, session):
    login("admin")
    before = user_count(session)
    response = client.post(
        "/admin/users/new",
        data={"email": "not-an-address", "full_name": "Kit", "role": "admin", "password": "short"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Field must be between 12 and 128 characters long." in page
    assert 'value="Kit"' in page
    assert user_count(session) == before


def test_an_invalid_e_mail_is_explained_on_its_field(client, login, session):
    login("admin")
    response = client.post(
        "/admin/users/new",
        data={
            "email": "not-an-address",
            "full_name": "Kit",
            "role": "admin",
            "password": "long enough password",
        },
    )
    assert response.status_code == 422
    assert "Not a valid e-mail address" in response.get_data(as_text=True)


def test_a_taken_e_mail_is_refused_on_the_form(client, login, make_user, session):
    login("admin")
    existing = make_user("auditor")
    before = user_count(session)
    response = client.post(
        "/admin/users/new",
        data={
            "email": existing.email,
            "full_name": "Dup",
            "role": "auditor",
            "password": "long enough password",
        },
    )
    assert response.status_code == 422
    assert "A user with this e-mail already exists." in response.get_data(as_text=True)
    assert user_count(session) == before


def edit(client, user, **fields):
    page = client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    version = page.split('name="version" type="hidden" value="')[1].split('"')[0]
    data = {"full_name": user.full_name, "role": user.role.value, "active": "y", "version": version}
    data.update(fields)
    if data.get("active") is None:
        data.pop("active")
    return client.post(f"/admin/users/{user.id}", data=data)


def test_admin_changes_a_role_and_deactivates_a_user(client, login, make_user, session):
    login("admin")
    user = make_user("contributor")
    assert edit(client, user, role="quality_lead").status_code == 302
    assert session.get(User, user.id).role == "quality_lead"
    assert edit(client, user, role="quality_lead", active=None).status_code == 302
    session.expire_all()
    assert session.get(User, user.id).active is False
    listing = client.get("/admin/users").get_data(as_text=True)
    assert "Deactivated" in listing


def test_a_stale_edit_is_refused_and_overwrites_nothing(client, login, make_user, session):
    login("admin")
    user = make_user("contributor", full_name="Original Name")
    stale = client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    stale_version = stale.split('name="version" type="hidden" value="')[1].split('"')[0]
    assert edit(client, user, full_name="First Editor").status_code == 302
    response = client.post(
        f"/admin/users/{user.id}",
        data={
            "full_name": "Second Editor",
            "role": "contributor",
            "active": "y",
            "version": stale_version,
        },
    )
    assert response.status_code == 422
    assert "was changed by someone else since you opened it" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(User, user.id).full_name == "First Editor"


def test_an_admin_cannot_lock_themselves_out(client, login, session):
    admin = login("admin")
    response = edit(client, admin, role="auditor")
    assert response.status_code == 422
    assert "You cannot deactivate your own account" in response.get_data(as_text=True)
    assert session.get(User, admin.id).role == "admin"


def test_the_last_active_administrator_cannot_be_demoted(session):
    import pytest

    from app.accounts.services import change_role, create_user
    from app.core.errors import ServiceError

    for existing in session.scalars(select(User).where(User.role == "admin")):
        existing.active = False
    admin = create_user("only.admin@example.com", "Only Admin", "admin", "long enough password")
    with pytest.raises(ServiceError, match="last active administrator"):
        change_role(admin, "auditor")


def test_missing_user_is_404(client, login):
    login("admin")
    assert client.get("/admin/users/999999").status_code == 404


def test_the_edit_page_shows_the_account_history(client, login, make_user):
    login("admin")
    user = make_user("contributor", full_name="Historic Person")
    assert edit(client, user, full_name="Renamed Person").status_code == 302
    page = client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert "No recorded changes yet." not in page
    assert "Historic Person" in page and "Renamed Person" in page
