from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from app.core.pagination import paginate, parse_page_number
from app.core.permissions import Permission, requires
from app.extensions import db
from app.organisation import services

blueprint = Blueprint("organisation", __name__, template_folder="templates")


@blueprint.route("/principles")
@requires(Permission.ORGANISATION_VIEW)
def principle_list() -> str:
    return render_template(
        "organisation/principle_list.html", principles=services.list_principles()
    )


@blueprint.route("/sites")
@requires(Permission.ORGANISATION_VIEW)
def site_list() -> str:
    return render_template("organisation/site_list.html", sites=services.list_sites())


@blueprint.route("/processes")
@requires(Permission.ORGANISATION_VIEW)
def process_list() -> str:
    return render_template("organisation/process_list.html", processes=services.list_processes())


@blueprint.route("/customers")
@requires(Permission.ORGANISATION_VIEW)
def customer_list() -> str:
    page = paginate(
        db.session,
        services.customers_query(),
        parse_page_number(request.args.get("page")),
        current_app.config["PAGE_SIZE"],
    )
    return render_template("organisation/customer_list.html", page=page)
