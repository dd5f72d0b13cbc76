from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from app.audit import services
from app.audit.forms import EventFilterForm
from app.core.audit import AuditAction
from app.core.forms import select_choices
from app.core.pagination import parse_page_number
from app.core.permissions import Permission, requires

blueprint = Blueprint("audit", __name__, template_folder="templates")


@blueprint.route("/audit")
@requires(Permission.AUDIT_VIEW)
def event_list() -> tuple[str, int]:
    form = EventFilterForm(request.args)
    form.record_type.choices = select_choices(
        [("", "Any")] + [(t, t) for t in services.record_types()]
    )
    if request.args and not form.validate():
        return render_template("audit/event_list.html", form=form, page=None, args={}), 422
    filters = services.EventFilters(
        record_type=form.record_type.data or None,
        record_id=request.args.get("record_id") or None,
        actor=form.actor.data or None,
        action=AuditAction(form.action.data) if form.action.data else None,
        date_from=form.date_from.data,
        date_to=form.date_to.data,
    )
    page = services.search_events(
        filters, parse_page_number(request.args.get("page")), current_app.config["PAGE_SIZE"]
    )
    args = {key: value for key, value in request.args.items() if key != "page" and value}
    return render_template("audit/event_list.html", form=form, page=page, args=args), 200


@blueprint.route("/audit/verify")
@requires(Permission.AUDIT_VIEW)
def verify() -> str:
    return render_template("audit/verify.html", result=services.verify())
