from __future__ import annotations

from flask import Blueprint, render_template

from app.core.permissions import Permission, requires
from app.metrics.services import overview_tiles

blueprint = Blueprint("metrics", __name__, template_folder="templates")


@blueprint.route("/")
@requires(Permission.DASHBOARD_VIEW)
def dashboard() -> str:
    return render_template("metrics/dashboard.html", tiles=overview_tiles())
