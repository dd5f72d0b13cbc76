"""Loop QMS: the application factory. Wiring only; behaviour lives in the domain packages."""

from __future__ import annotations

import importlib
import smtplib
from pathlib import Path
from typing import Any

from flask import Flask, Response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from app.core.audit import start_request_context
from app.core.permissions import Permission, can
from app.extensions import csrf, db, login_manager
from config import config_class, instance_dir


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the app. `overrides` (tests) wins over environment variables and class defaults."""
    app = Flask(__name__, instance_path=str(instance_dir()), instance_relative_config=False)
    settings_class = config_class()
    app.config.update(settings_class.load())
    app.config["LOOP_ENV"] = settings_class.ENV_NAME
    if overrides:
        app.config.update(overrides)
    _ensure_sqlite_folder(str(app.config["DATABASE_URL"]))
    proxies = int(app.config["LOOP_TRUSTED_PROXIES"])
    if proxies:
        # Sign-in rate limits and the audit trail need the client's address, not the proxy's.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)

    importlib.import_module("app.models")  # every model mapped before the first query

    db.init_app(app)
    if str(app.config["DATABASE_URL"]).startswith("sqlite"):
        from app.core.transactions import RetryRefusedUpgrades

        # GETs read in deferred transactions; one whose upgrade to a writer is refused re-runs.
        app.wsgi_app = RetryRefusedUpgrades(app.wsgi_app)  # type: ignore[method-assign]
    csrf.init_app(app)
    login_manager.init_app(app)

    _register_blueprints(app)
    _register_request_hooks(app)
    _register_error_pages(app)
    _register_template_helpers(app)

    from app.cli import register_cli

    register_cli(app)

    from app.scheduler.engine import should_embed, start_embedded

    if should_embed(app):  # only the process serving `flask run`, never tests or other commands
        start_embedded(app)
    return app


def _ensure_sqlite_folder(url: str) -> None:
    prefix = "sqlite:///"
    if url.startswith(prefix) and ":memory:" not in url:
        Path(url[len(prefix) :]).parent.mkdir(parents=True, exist_ok=True)


def _register_blueprints(app: Flask) -> None:
    from app.accounts.views import blueprint as accounts
    from app.api.admin import blueprint as api_admin
    from app.api.views import blueprint as api
    from app.attachments.views import blueprint as attachments
    from app.audit.views import blueprint as audit_views
    from app.audits.views import blueprint as audits
    from app.capa.views import blueprint as capa
    from app.complaints.views import blueprint as complaints
    from app.documents.views import blueprint as documents
    from app.fmea.views import blueprint as fmea
    from app.intake.views import blueprint as intake
    from app.metrics.views import blueprint as metrics
    from app.nonconformities.views import blueprint as nonconformities
    from app.notifications.views import blueprint as notifications
    from app.organisation.views import blueprint as organisation
    from app.rca.views import blueprint as rca
    from app.reports.views import blueprint as reports
    from app.reviews.views import blueprint as reviews
    from app.scheduler.views import blueprint as scheduler
    from app.strategy.views import blueprint as strategy
    from app.suppliers.external import blueprint as supplier_response
    from app.suppliers.views import blueprint as suppliers
    from app.tasks.views import blueprint as tasks

    for blueprint in (
        accounts,
        audit_views,
        metrics,
        strategy,
        organisation,
        complaints,
        nonconformities,
        rca,
        capa,
        audits,
        reviews,
        suppliers,
        supplier_response,
        intake,
        notifications,
        scheduler,
        reports,
        api,
        api_admin,
        tasks,
        attachments,
        documents,
        fmea,
    ):
        app.register_blueprint(blueprint)


def _register_request_hooks(app: Flask) -> None:
    from app.accounts.views import enforce_session_timeouts
    from app.core.db import commit_kept_writes
    from app.core.transactions import WriteUpgradeRefused, upgrade_was_refused
    from app.notifications.services import deliver_queued_mail, discard_queued_mail

    app.before_request(start_request_context)
    app.before_request(enforce_session_timeouts)

    @app.after_request
    def commit_or_roll_back(response: Response) -> Response:
        # One commit per request: everything a view's service did lands together, or nothing does.
        if upgrade_was_refused():  # this attempt is thrown away; the request runs again
            db.session.rollback()
            return response
        try:
            if response.status_code < 400:
                db.session.commit()
            else:
                db.session.rollback()
                discard_queued_mail(db.session)
            commit_kept_writes(db.session)
        except WriteUpgradeRefused:
            db.session.rollback()
            discard_queued_mail(db.session)
            return response
        _send_committed_mail()
        return response

    def _send_committed_mail() -> None:
        # E-mail only about work that has committed; a mail server that is down costs the
        # e-mail (the in-app notification stays), never the saved work.
        try:
            deliver_queued_mail(db.session)
        except (OSError, smtplib.SMTPException):
            db.session.rollback()
            app.logger.exception("Sending the queued e-mail failed")

    @app.errorhandler(WriteUpgradeRefused)
    def upgrade_refused(error: WriteUpgradeRefused) -> tuple[str, int]:
        db.session.rollback()
        return "", 503  # never sent: RetryRefusedUpgrades runs the request again

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "font-src 'self'; connect-src 'self'; form-action 'self'; object-src 'none'; "
            "base-uri 'none'; frame-ancestors 'none'"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        # A page may ask for less: the supplier response page (its token is in the path) sends
        # no referrer at all.
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers["X-Frame-Options"] = "DENY"
        if app.config.get("HSTS"):
            response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        if request.endpoint != "static":
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def _register_error_pages(app: Flask) -> None:
    from app.api.framework import http_problem, is_api_request, server_problem

    @app.errorhandler(CSRFError)
    def form_expired(error: CSRFError) -> tuple[str, int]:
        return render_template("errors/400.html", csrf=True), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int] | HTTPException | Response:
        if is_api_request():  # the JSON API answers in problem+json, never with a page
            return http_problem(error)
        code = error.code or 500
        if code in (400, 403, 404, 405, 500):
            template = f"errors/{code}.html" if code != 405 else "errors/404.html"
            return render_template(template, error=error), code
        return error

    if app.config.get("TESTING"):
        return  # let tests see the traceback instead of a polite page

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> tuple[str, int] | Response:
        db.session.rollback()
        app.logger.exception("Unhandled error")
        if is_api_request():
            return server_problem()
        return render_template("errors/500.html"), 500


def _register_template_helpers(app: Flask) -> None:
    from app.core.navigation import current_section, fixed_url, main_navigation, visible
    from app.notifications.services import unread_count

    app.jinja_env.globals.update(
        can=can,
        Permission=Permission,
        main_navigation=main_navigation,
        current_section=current_section,
        visible_navigation=visible,
        fixed_url=fixed_url,
        unread_notification_count=unread_count,
    )

    @app.template_filter("utc")
    def format_utc(value: Any) -> str:
        return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "—"

    @app.context_processor
    def organisation_name() -> dict[str, Any]:
        return {"org_name": app.config["ORG_NAME"]}
