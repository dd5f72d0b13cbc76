from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user
from werkzeug.wrappers import Response

from app.audit import services
from app.audit.forms import EventFilterForm
from app.core.audit import AuditAction, record_event
from app.core.audit_display import ReadableEvent, readable_events
from app.core.db import utcnow
from app.core.forms import select_choices
from app.core.listing import csv_response
from app.core.pagination import parse_page_number
from app.core.permissions import Permission, requires
from app.extensions import db
from app.tasks import services as task_services
from app.tasks.services import TaskContext, TaskKind, TaskResult
from app.tasks.views import redirect_to

blueprint = Blueprint("audit", __name__, template_folder="templates")


@blueprint.app_template_filter("readable")
def readable(events: list[Any]) -> list[ReadableEvent]:
    """Audit events as a person reads them (one query for the names the list needs)."""
    return readable_events(events)


def _filter_form() -> EventFilterForm:
    form = EventFilterForm(request.args)
    form.record_type.choices = select_choices([("", "Any"), *services.record_types()])
    return form


def _filters(form: EventFilterForm) -> services.EventFilters:
    return services.EventFilters(
        record_type=form.record_type.data or None,
        record_id=request.args.get("record_id") or None,
        actor=form.actor.data or None,
        action=AuditAction(form.action.data) if form.action.data else None,
        date_from=form.date_from.data,
        date_to=form.date_to.data,
    )


def _args() -> dict[str, str]:
    return {key: value for key, value in request.args.items() if key != "page" and value}


@blueprint.route("/audit")
@requires(Permission.AUDIT_VIEW)
def event_list() -> tuple[str, int]:
    form = _filter_form()
    if request.args and not form.validate():
        return render_template("audit/event_list.html", form=form, page=None, args={}), 422
    filters = _filters(form)
    found = services.search_events(
        filters, parse_page_number(request.args.get("page")), current_app.config["PAGE_SIZE"]
    )
    return (
        render_template(
            "audit/event_list.html",
            form=form,
            page=found.page,
            items=found.items,
            record_name=services.record_name(filters.record_type, filters.record_id),
            args=_args(),
        ),
        200,
    )


CSV_HEADER = [
    "Event",
    "When (UTC)",
    "Actor",
    "Action",
    "Record type",
    "Record",
    "Changes",
    "Reason",
    "Hash",
]


@blueprint.route("/audit/export.csv")
@requires(Permission.AUDIT_VIEW)
def event_export() -> Response | tuple[str, int]:
    form = _filter_form()
    if request.args and not form.validate():
        return render_template("audit/event_list.html", form=form, page=None, args={}), 422
    record_event(
        db.session, AuditAction.EXPORT, "audit_event", changes={"format": "csv", "filters": _args()}
    )

    def row_values(item: ReadableEvent) -> list[Any]:
        return [
            item.event.id,
            item.when,
            item.event.actor,
            item.action_label,
            item.record_type_label,
            item.record_label,
            "\n".join(item.lines()),
            item.event.reason or "",
            item.event.hash,
        ]

    return csv_response(
        f"audit-trail-{utcnow().date().isoformat()}.csv",
        CSV_HEADER,
        services.export_events(_filters(form)),
        row_values,
    )


@blueprint.route("/audit/verify")
@requires(Permission.AUDIT_VIEW)
def verify() -> str | Response:
    events = services.chain_length()
    if events > int(current_app.config["AUDIT_VERIFY_SYNC_MAX_EVENTS"]):
        task = task_services.enqueue(
            "audit-verify", {}, current_user, title=f"Audit-trail verification ({events:,} events)"
        )
        return redirect_to(task)
    page = services.verify_with_checkpoints()
    return render_template("audit/verify.html", result=page.chain, page=page)


def _verify_task(context: TaskContext) -> TaskResult:
    total = services.chain_length()
    context.progress(0, total, "Verifying events")
    page = services.verify_with_checkpoints(
        progress=lambda count: context.progress(count, total, "Verifying events")
    )
    text = services.verification_text(page.chain) + services.checkpoint_text(page)
    return TaskResult(
        message=text.replace("\n", " ").strip(),
        content=text.encode("utf-8"),
        filename=f"audit-verification-{utcnow():%Y%m%d-%H%M%S}.txt",
        mimetype="text/plain",
    )


task_services.register_task_kind(TaskKind("audit-verify", "Audit-trail verification", _verify_task))
