from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.accounts import services, sessions
from app.accounts.forms import EditUserForm, LoginForm, NewUserForm
from app.accounts.models import User
from app.api import is_api_request
from app.audit.services import history_of
from app.core.db import utcnow
from app.core.errors import ServiceError
from app.core.forms import apply_service_error
from app.core.permissions import Permission, public, requires
from app.extensions import db, login_manager

blueprint = Blueprint("accounts", __name__, template_folder="templates")

login_manager.login_view = "accounts.login"
login_manager.login_message = "Please sign in to open that page."
login_manager.login_message_category = "info"
login_manager.session_protection = "basic"
# The cookie's key for the server-side session token (app.accounts.sessions).
SESSION_TOKEN = "sid"


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    user_id, _, epoch = session_id.partition(":")
    if not user_id.isdigit() or not epoch.isdigit():
        return None
    # None when the session was signed out or ended by a password or role change (a replayed
    # cookie), or the user is gone.
    user = sessions.user_of_live_session(int(user_id), session.get(SESSION_TOKEN))
    if user is None or not user.active or user.session_epoch != int(epoch):
        return None
    return user


def enforce_session_timeouts() -> Response | None:
    """Sign out idle sessions and sessions older than the absolute limit; remember the actor."""
    from flask import g

    if request.endpoint == "static" or is_api_request() or not current_user.is_authenticated:
        return None  # the JSON API ignores browser sessions: it authenticates tokens only
    now = utcnow().timestamp()
    signed_in_at = float(session.get("signed_in_at", 0))
    last_seen = float(session.get("last_seen", 0))
    idle = current_app.config["SESSION_IDLE_TIMEOUT"].total_seconds()
    absolute = current_app.config["SESSION_ABSOLUTE_TIMEOUT"].total_seconds()
    if now - last_seen > idle or now - signed_in_at > absolute:
        sessions.end_session(session.get(SESSION_TOKEN), "timed out")
        logout_user()
        session.clear()
        flash("Your session expired. Please sign in again.", "info")
        return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
    session["last_seen"] = now
    g.audit_actor = (current_user.email, current_user.id)
    return None


def safe_next(target: str | None) -> str:
    """Only local paths: never an absolute URL or a scheme-relative `//host` that leaves the app."""
    if not target:
        return url_for("metrics.dashboard")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("metrics.dashboard")
    if "\\" in target:
        return url_for("metrics.dashboard")
    return target


@blueprint.route("/login", methods=["GET", "POST"])
@public
def login() -> str | Response | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm(next=request.args.get("next", ""))
    if request.method == "POST" and not form.validate():
        return render_template("accounts/login.html", form=form), 422
    if form.is_submitted():
        result = services.sign_in(
            form.email.data or "",
            form.password.data or "",
            request.remote_addr or "",
            services.ThrottleSettings.from_config(),
        )
        if not result.ok:
            form.password.data = ""
            return render_template(
                "accounts/login.html", form=form, error=services.GENERIC_SIGN_IN_ERROR
            )
        # A fresh session on sign-in: nothing from before it survives (no session fixation).
        session.clear()
        login_user(result.user)
        session[SESSION_TOKEN] = sessions.start_session(result.user)
        now = utcnow().timestamp()
        session["signed_in_at"] = now
        session["last_seen"] = now
        session.permanent = True
        return redirect(safe_next(form.next.data))
    return render_template("accounts/login.html", form=form)


@blueprint.route("/logout", methods=["POST"])
@public
def logout() -> Response:
    if current_user.is_authenticated:
        services.record_sign_out(current_user._get_current_object())
    sessions.end_session(session.get(SESSION_TOKEN), "signed out")
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("accounts.login"))


@blueprint.route("/admin/users")
@requires(Permission.USERS_MANAGE)
def user_list() -> str:
    users = db.session.scalars(select(User).order_by(User.active.desc(), User.full_name)).all()
    return render_template(
        "accounts/user_list.html", users=users, last_sign_ins=services.last_sign_ins()
    )


@blueprint.route("/admin/users/new", methods=["GET", "POST"])
@requires(Permission.USERS_MANAGE)
def user_new() -> str | Response | tuple[str, int]:
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            user = services.create_user(
                form.email.data, form.full_name.data, form.role.data, form.password.data
            )
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            flash(f"{user.full_name} can now sign in as {user.role_label.lower()}.", "success")
            return redirect(url_for("accounts.user_list"))
    status = 422 if form.is_submitted() else 200
    return render_template("accounts/user_form.html", form=form, user=None), status


@blueprint.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@requires(Permission.USERS_MANAGE)
def user_edit(user_id: int) -> str | Response | tuple[str, int]:
    user = db.get_or_404(User, user_id)
    form = EditUserForm(obj=user if request.method == "GET" else None)
    if request.method == "GET":
        form.role.data = user.role.value
        form.version.data = str(user.version)
    if form.validate_on_submit():
        try:
            services.update_user(
                user,
                acting_user=current_user,
                full_name=form.full_name.data,
                role=form.role.data,
                active=bool(form.active.data),
                expected_version=form.version.data,
            )
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            flash(f"Saved the account of {user.full_name}.", "success")
            return redirect(url_for("accounts.user_list"))
    status = 422 if form.is_submitted() else 200
    return render_template(
        "accounts/user_form.html", form=form, user=user, history=history_of(user)
    ), status
