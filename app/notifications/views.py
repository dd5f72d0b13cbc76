"""The notifications page: a user's own notifications, newest first, and marking them read."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.accounts.models import User
from app.core.pagination import parse_page_number
from app.core.permissions import Permission, requires
from app.notifications import services

blueprint = Blueprint("notifications", __name__, template_folder="templates")


def _user() -> User:
    return current_user._get_current_object()  # type: ignore[attr-defined]


@blueprint.route("/notifications")
@requires(Permission.DASHBOARD_VIEW)
def notification_list() -> str:
    page = services.notifications_page(
        _user(), parse_page_number(request.args.get("page")), int(current_app.config["PAGE_SIZE"])
    )
    return render_template("notifications/notification_list.html", page=page)


@blueprint.route("/notifications/<int:notification_id>/read", methods=["POST"])
@requires(Permission.DASHBOARD_VIEW)
def notification_read(notification_id: int) -> Response:
    notification = services.mark_read(_user(), notification_id)
    if notification is None:
        abort(404)
    # Open what the notification is about, when it points somewhere in the app.
    if request.form.get("open") and notification.link.startswith("/"):
        return redirect(notification.link)
    return redirect(url_for("notifications.notification_list"))


@blueprint.route("/notifications/read-all", methods=["POST"])
@requires(Permission.DASHBOARD_VIEW)
def notification_read_all() -> Response:
    services.mark_all_read(_user())
    return redirect(url_for("notifications.notification_list"))
