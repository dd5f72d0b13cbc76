from __future__ import annotations

from sqlalchemy import select

from app.accounts.models import User
from app.extensions import db


def test_users_create_reads_the_password_from_stdin(databases):
    app = databases.new_migrated_app()
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "ops@example.com",
            "--name",
            "Ops Person",
            "--role",
            "admin",
            "--password-stdin",
        ],
        input="a strong admin password\n",
    )
    assert result.exit_code == 0, result.output
    assert "Created ops@example.com (Administrator)." in result.output
    login = app.test_client().post(
        "/login", data={"email": "ops@example.com", "password": "a strong admin password"}
    )
    assert login.status_code == 302


def test_users_create_refuses_a_short_password_in_one_line_and_saves_nothing(databases):
    app = databases.new_migrated_app()
    result = app.test_cli_runner().invoke(
        args=[
            "users",
            "create",
            "--email",
            "x@example.com",
            "--name",
            "X",
            "--role",
            "auditor",
            "--password-stdin",
        ],
        input="short\n",
    )
    assert result.exit_code != 0
    assert result.output.strip() == "Error: Passwords need at least 12 characters."
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "x@example.com")) is None


def test_users_create_refuses_an_unknown_role(databases):
    app = databases.new_migrated_app()
    result = app.test_cli_runner().invoke(
        args=["users", "create", "--email", "x@example.com", "--name", "X", "--role", "boss"],
        input="long enough password\n",
    )
    assert result.exit_code == 2
    assert "Invalid value for '--role'" in result.output


def test_seed_demo_creates_a_user_per_role_once(databases):
    app = databases.new_migrated_app()
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo", "--if-empty"])
    assert first.exit_code == 0, first.output
    assert "These passwords are shown only now" in first.output
    lines = [line.split() for line in first.output.splitlines() if "@loop.example" in line]
    assert {line[0] for line in lines} == {"admin", "quality_lead", "contributor", "auditor"}
    _role, email, password = lines[0]
    login = app.test_client().post("/login", data={"email": email, "password": password})
    assert login.status_code == 302
    again = runner.invoke(args=["seed-demo", "--if-empty"])
    assert again.exit_code == 0 and "nothing seeded" in again.output
    refused = runner.invoke(args=["seed-demo"])
    assert refused.exit_code == 1
    assert "refusing to add demo data" in refused.output
