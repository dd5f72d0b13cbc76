from __future__ import annotations

import pytest

from app import create_app


def test_every_page_carries_the_security_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert directive in csp
    script_src = next(part for part in csp.split(";") if part.strip().startswith("script-src"))
    assert "unsafe-inline" not in script_src
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]
    assert "Strict-Transport-Security" not in response.headers  # development and tests: no HSTS


def test_session_cookie_is_http_only_and_same_site_lax(client, make_user):
    user = make_user("contributor")
    response = client.post(
        "/login", data={"email": user.email, "password": "correct horse battery staple"}
    )
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_pages_have_no_inline_script(client, login):
    login("admin")
    for path in ("/", "/admin/users", "/audit", "/principles"):
        page = client.get(path).get_data(as_text=True)
        assert "<script>" not in page
        assert " style=" not in page


def test_production_refuses_to_start_without_a_secret_key(monkeypatch):
    monkeypatch.setenv("LOOP_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY is not set"):
        create_app()


def test_production_sends_hsts_and_secure_cookies(monkeypatch, databases):
    monkeypatch.setenv("LOOP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 64)
    monkeypatch.setenv("DATABASE_URL", databases.new_url())
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is True
    response = app.test_client().get("/login")
    assert "max-age=" in response.headers["Strict-Transport-Security"]


def test_settings_come_from_the_environment(monkeypatch, databases):
    monkeypatch.setenv("LOOP_ORG_NAME", "Harbour Water Services")
    monkeypatch.setenv("LOOP_SCHEDULER", "off")
    monkeypatch.setenv("MAIL_SERVER", "127.0.0.1")
    monkeypatch.setenv("MAIL_PORT", "2525")
    app = create_app({"DATABASE_URL": databases.new_url()})
    assert app.config["LOOP_SCHEDULER"] == "off"
    assert app.config["MAIL_PORT"] == 2525
    page = app.test_client().get("/login").get_data(as_text=True)
    assert "Harbour Water Services" in page


def test_a_bad_setting_is_named(monkeypatch):
    monkeypatch.setenv("LOOP_SCHEDULER", "sometimes")
    with pytest.raises(RuntimeError, match="LOOP_SCHEDULER must be"):
        create_app()


def test_development_keeps_a_generated_secret_key_in_the_instance_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("LOOP_ENV", "development")
    monkeypatch.setenv("LOOP_INSTANCE_DIR", str(tmp_path))
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/a.sqlite3"}).config["SECRET_KEY"]
    second = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/a.sqlite3"}).config["SECRET_KEY"]
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").read_text().strip() == first


def test_unknown_page_is_a_styled_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_sqlite_connections_use_wal_foreign_keys_and_full_sync(app):
    engine = app.extensions["loop_db"].engine
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
