from __future__ import annotations

from datetime import UTC
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.accounts.services import signatures_of
from app.audit.services import history_of
from app.complaints.models import Complaint
from app.complaints.services import is_read_only as complaint_is_read_only
from app.core.audit import AuditAction, record_event
from app.core.errors import ServiceError, StaleRecord
from app.core.forms import apply_service_error, form_status, refuse_if_not_permitted
from app.core.listing import batched_rows
from app.core.pagination import count_of, paginate, parse_page_number
from app.core.permissions import Permission, requires
from app.core.signatures import changed_after_signature
from app.extensions import db
from app.nonconformities import services
from app.nonconformities.forms import (
    CloseForm,
    EditNonconformityForm,
    LinkComplaintForm,
    NonconformityFilterForm,
    NonconformityForm,
    TransitionForm,
    optional_id,
)
from app.nonconformities.models import Nonconformity
from app.nonconformities.workflow import NONCONFORMITY_WORKFLOW
from app.rca.forms import StartAnalysisForm
from app.tasks.exports import CsvExport, csv_download, register_csv_export

blueprint = Blueprint("nonconformities", __name__, template_folder="templates")

FormPage = str | Response | tuple[str, int]


def _nonconformity_or_404(reference: str) -> Nonconformity:
    nc = services.get_by_reference(reference)
    if nc is None:
        abort(404)
    return nc


# --- the list and its export -------------------------------------------------------------------


def _filter_form() -> NonconformityFilterForm:
    form = NonconformityFilterForm(request.args)
    form.set_choices(
        services.selectable_processes(),
        services.selectable_categories(),
        services.assignable_owners(),
    )
    return form


@blueprint.route("/nonconformities")
@requires(Permission.RECORDS_VIEW)
def nonconformity_list() -> tuple[str, int]:
    form = _filter_form()
    if request.args and not form.validate():
        return render_template(
            "nonconformities/list.html", form=form, page=None, args={}, sort=None
        ), 422
    statement, sort = services.nonconformity_list_query(form.filters())
    page = paginate(
        db.session,
        statement,
        parse_page_number(request.args.get("page")),
        current_app.config["PAGE_SIZE"],
    )
    args = {key: value for key, value in request.args.items() if key != "page" and value}
    return render_template(
        "nonconformities/list.html",
        form=form,
        page=page,
        args=args,
        sort=sort,
        rpn_band=services.rpn_band,
        is_overdue=services.is_overdue,
        band_labels=services.RPN_BAND_LABELS,
        overdue_days=services.OVERDUE_AFTER_DAYS,
    ), 200


EXPORT_HEADER = [
    "Reference",
    "Title",
    "Status",
    "Source",
    "Process",
    "Category",
    "Owner",
    "Detected at (UTC)",
    "Severity",
    "Occurrence",
    "Detection",
    "RPN",
    "RPN band",
    "Overdue",
    "Contained at (UTC)",
    "Closed at (UTC)",
]


def _iso(value: Any) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _export_row(nc: Nonconformity) -> list[Any]:
    return [
        nc.reference,
        nc.title,
        nc.status.label,
        nc.source.label,
        nc.process.name if nc.process else "",
        nc.category.name if nc.category else "",
        nc.owner.full_name if nc.owner else "",
        _iso(nc.detected_at),
        nc.severity,
        nc.occurrence,
        nc.detection,
        nc.rpn,
        services.rpn_band(nc.rpn),
        "yes" if services.is_overdue(nc) else "no",
        _iso(nc.contained_at),
        _iso(nc.closed_at),
    ]


@blueprint.route("/nonconformities/export.csv")
@requires(Permission.RECORDS_EXPORT)
def nonconformity_export() -> Response | tuple[str, int]:
    form = _filter_form()
    if request.args and not form.validate():
        return render_template(
            "nonconformities/list.html", form=form, page=None, args={}, sort=None
        ), 422
    statement, _ = services.nonconformity_list_query(form.filters())
    return csv_download("nonconformities", count_of(db.session, statement))


def _nonconformity_csv() -> CsvExport:
    """The filtered list as CSV (the export is recorded in the audit trail)."""
    form = _filter_form()
    if request.args and not form.validate():
        raise ServiceError("The list's filters are no longer valid; export the list again.")
    statement, _ = services.nonconformity_list_query(form.filters())
    filters = urlencode(sorted((key, value) for key, value in request.args.items() if value))
    record_event(
        db.session,
        AuditAction.EXPORT,
        "nonconformity",
        None,
        changes={"format": "csv", "filters": filters or "none"},
    )
    return CsvExport(
        "nonconformities.csv", EXPORT_HEADER, batched_rows(db.session, statement), _export_row
    )


register_csv_export("nonconformities", "Nonconformities", _nonconformity_csv)


# --- raising and editing -----------------------------------------------------------------------


def _prefill(form: NonconformityForm, complaint: Complaint | None) -> None:
    form.owner_id.data = str(current_user.id)
    if complaint is None:
        return
    values = services.prefill_from_complaint(complaint)
    form.source.data = values["source"]
    form.title.data = values["title"]
    form.description.data = values["description"]
    form.process_id.data = str(values["process_id"] or "")
    form.category_id.data = str(values["category_id"] or "")
    form.detected_at.data = values["detected_at"].replace(tzinfo=None, second=0, microsecond=0)
    form.complaint.data = complaint.reference


@blueprint.route("/nonconformities/new", methods=["GET", "POST"])
@requires(Permission.RECORDS_CREATE)
def nonconformity_new() -> FormPage:
    form = NonconformityForm()
    form.set_choices(
        services.selectable_processes(),
        services.selectable_categories(),
        services.assignable_owners(),
    )
    # "Raise nonconformity" on a complaint page: ?complaint=<reference> pre-fills the form, and
    # the hidden `complaint` field carries the link through the POST.
    reference = request.args.get("complaint") if request.method == "GET" else form.complaint.data
    complaint = services.get_complaint_by_reference(reference) if reference else None
    if reference and complaint is None:
        if request.method == "GET":
            abort(404)
        form.validate()
        form.form_errors.append(f"There is no complaint {reference} to link.")
    elif complaint is not None and complaint_is_read_only(complaint):
        flash(
            f"{complaint.reference} is closed and read-only; reopen it (with a reason) before "
            "you raise a nonconformity from it.",
            "warning",
        )
        return redirect(url_for("complaints.complaint_detail", reference=complaint.reference))
    elif request.method == "GET":
        _prefill(form, complaint)
    if not form.form_errors and form.validate_on_submit():
        try:
            nc = services.raise_nonconformity(
                title=form.title.data,
                source=form.source.data,
                detected_at=form.detected_at.data,
                severity=form.severity.data,
                occurrence=form.occurrence.data,
                detection=form.detection.data,
                description=form.description.data,
                process_id=optional_id(form.process_id.data),
                category_id=optional_id(form.category_id.data),
                owner_id=optional_id(form.owner_id.data),
                containment_action=form.containment_action.data,
                complaint_ids=[complaint.id] if complaint is not None else [],
                user=current_user,
            )
        except ServiceError as error:
            refuse_if_not_permitted(error)
            apply_service_error(form, error)
        else:
            flash(f"Raised the nonconformity {nc.reference}.", "success")
            return redirect(url_for(".nonconformity_detail", reference=nc.reference))
    return render_template(
        "nonconformities/form.html", form=form, nc=None, complaint=complaint
    ), form_status(form)


@blueprint.route("/nonconformities/<reference>/edit", methods=["GET", "POST"])
@requires(Permission.RECORDS_VIEW)
def nonconformity_edit(reference: str) -> FormPage:
    nc = _nonconformity_or_404(reference)
    if not services.may_edit(current_user, nc):
        abort(403)
    if services.is_read_only(nc):
        flash(
            f"{nc.reference} is {nc.status.label.lower()} and read-only; reopen it (with a reason) "
            "before you edit it.",
            "warning",
        )
        return redirect(url_for(".nonconformity_detail", reference=nc.reference))
    form = EditNonconformityForm(obj=nc if request.method == "GET" else None)
    form.set_choices(
        services.selectable_processes(nc.process_id),
        services.selectable_categories(nc.category_id),
        services.assignable_owners(nc.owner_id),
    )
    if request.method == "GET":
        form.version.data = str(nc.version)
        form.process_id.data = str(nc.process_id or "")
        form.category_id.data = str(nc.category_id or "")
        form.owner_id.data = str(nc.owner_id or "")
    stale = False
    if form.validate_on_submit():
        try:
            services.update_nonconformity(
                nc,
                title=form.title.data,
                description=form.description.data,
                process_id=optional_id(form.process_id.data),
                category_id=optional_id(form.category_id.data),
                owner_id=optional_id(form.owner_id.data),
                severity=form.severity.data,
                occurrence=form.occurrence.data,
                detection=form.detection.data,
                containment_action=form.containment_action.data,
                expected_version=form.version.data or "",
                user=current_user,
            )
        except ServiceError as error:
            refuse_if_not_permitted(error)
            stale = isinstance(error, StaleRecord)
            apply_service_error(form, error)
        else:
            flash(f"Saved the nonconformity {nc.reference}.", "success")
            return redirect(url_for(".nonconformity_detail", reference=nc.reference))
    return render_template(
        "nonconformities/form.html",
        form=form,
        nc=nc,
        complaint=None,
        stale=stale,
        history=history_of(nc),
        signed=any(not sig.is_void for sig in signatures_of(nc)),
    ), form_status(form)


# --- the record page and its actions -----------------------------------------------------------


def _render_detail(
    nc: Nonconformity,
    status: int = 200,
    *,
    transition_form: TransitionForm | None = None,
    close_form: CloseForm | None = None,
    link_form: LinkComplaintForm | None = None,
    failed_transition: str | None = None,
    stale: bool = False,
) -> tuple[str, int]:
    # A void signature (the record was reopened) is shown as void, not as "changed".
    signatures = [
        (sig, not sig.is_void and changed_after_signature(sig, nc)) for sig in signatures_of(nc)
    ]
    close_form = close_form or CloseForm(formdata=None)
    close_form.version.data = str(nc.version)
    return render_template(
        "nonconformities/detail.html",
        nc=nc,
        band=services.rpn_band(nc.rpn),
        band_labels=services.RPN_BAND_LABELS,
        overdue=services.is_overdue(nc),
        overdue_days=services.OVERDUE_AFTER_DAYS,
        may_edit=services.may_edit(current_user, nc),
        read_only=services.is_read_only(nc),
        transitions=NONCONFORMITY_WORKFLOW.available(nc, current_user),
        transition_form=transition_form or TransitionForm(formdata=None),
        failed_transition=failed_transition,
        stale=stale,
        close_form=close_form,
        link_form=link_form or LinkComplaintForm(formdata=None),
        start_form=StartAnalysisForm(formdata=None, problem_statement=nc.title),
        signatures=signatures,
        history=history_of(nc),
    ), status


@blueprint.route("/nonconformities/<reference>")
@requires(Permission.RECORDS_VIEW)
def nonconformity_detail(reference: str) -> tuple[str, int]:
    return _render_detail(_nonconformity_or_404(reference))


@blueprint.route("/nonconformities/<reference>/transition", methods=["POST"])
@requires(Permission.RECORDS_VIEW)
def nonconformity_transition(reference: str) -> Response | tuple[str, int]:
    nc = _nonconformity_or_404(reference)
    if not services.may_edit(current_user, nc):
        abort(403)
    form = TransitionForm()
    stale = False
    if form.validate_on_submit():
        try:
            services.transition_nonconformity(
                nc,
                form.transition.data,
                current_user,
                form.reason.data,
                expected_version=form.version.data or "",
            )
        except ServiceError as error:
            refuse_if_not_permitted(error)
            stale = isinstance(error, StaleRecord)
            apply_service_error(form, error)
        else:
            flash(f"{nc.reference} is now {nc.status.label.lower()}.", "success")
            return redirect(url_for(".nonconformity_detail", reference=nc.reference))
    return _render_detail(
        nc, 422, transition_form=form, failed_transition=form.transition.data or None, stale=stale
    )


@blueprint.route("/nonconformities/<reference>/close", methods=["POST"])
@requires(Permission.RECORDS_VIEW)
def nonconformity_close(reference: str) -> Response | tuple[str, int]:
    nc = _nonconformity_or_404(reference)
    if not services.may_edit(current_user, nc):
        abort(403)
    form = CloseForm()
    stale = False
    if form.validate_on_submit():
        try:
            signature = services.close_nonconformity(
                nc,
                current_user,
                form.password.data,
                form.meaning.data,
                expected_version=form.version.data or "",
            )
        except ServiceError as error:
            refuse_if_not_permitted(error)
            stale = isinstance(error, StaleRecord)
            apply_service_error(form, error)
        else:
            flash(
                f"Closed {nc.reference} under your signature: {signature.manifestation()}.",
                "success",
            )
            return redirect(url_for(".nonconformity_detail", reference=nc.reference))
    form.password.data = ""
    return _render_detail(nc, 422, close_form=form, stale=stale)


@blueprint.route("/nonconformities/<reference>/complaints", methods=["POST"])
@requires(Permission.RECORDS_VIEW)
def complaint_link(reference: str) -> Response | tuple[str, int]:
    nc = _nonconformity_or_404(reference)
    if not services.may_edit(current_user, nc):
        abort(403)
    form = LinkComplaintForm()
    if form.validate_on_submit():
        complaint = services.get_complaint_by_reference(form.complaint_reference.data)
        if complaint is None:
            form.complaint_reference.errors = [
                f"There is no complaint {form.complaint_reference.data.strip().upper()}."
            ]
        else:
            try:
                services.link_complaints(nc, [complaint.id], user=current_user)
            except ServiceError as error:
                refuse_if_not_permitted(error)
                apply_service_error(form, error)
            else:
                flash(f"Linked the complaint {complaint.reference}.", "success")
                return redirect(url_for(".nonconformity_detail", reference=nc.reference))
    return _render_detail(nc, 422, link_form=form)


@blueprint.route(
    "/nonconformities/<reference>/complaints/<complaint_reference>/remove", methods=["POST"]
)
@requires(Permission.RECORDS_VIEW)
def complaint_unlink(reference: str, complaint_reference: str) -> Response | tuple[str, int]:
    nc = _nonconformity_or_404(reference)
    if not services.may_edit(current_user, nc):
        abort(403)
    complaint = services.get_complaint_by_reference(complaint_reference)
    if complaint is None:
        abort(404)
    try:
        services.unlink_complaint(nc, complaint.id, user=current_user)
    except ServiceError as error:
        refuse_if_not_permitted(error)
        form = LinkComplaintForm(formdata=None)
        apply_service_error(form, error)
        return _render_detail(nc, 422, link_form=form)
    flash(f"Removed the link to the complaint {complaint.reference}.", "success")
    return redirect(url_for(".nonconformity_detail", reference=nc.reference))
