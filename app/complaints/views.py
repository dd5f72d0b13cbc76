"""Complaint pages: the filtered list and its CSV export, recording a complaint, the complaint page
with its status buttons, customer recovery, satisfaction and retention, editing and escalation.

Views parse the form, call one service and render. Who may change a complaint is the services'
rule (`services.may_edit`); a user it refuses gets 403 before any form is read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from app.accounts.models import User
from app.complaints import listing as complaint_listing
from app.complaints import services
from app.complaints.forms import (
    UNASSIGNED,
    AssignForm,
    ComplaintFilterForm,
    EditComplaintForm,
    EscalationForm,
    NewComplaintForm,
    RecoveryActionForm,
    RetentionForm,
    SatisfactionForm,
    TransitionForm,
    as_utc,
    optional_id,
)
from app.complaints.models import Channel, Complaint, ComplaintStatus, Severity
from app.complaints.traceability import complaint_traceability
from app.core.db import utcnow
from app.core.errors import ServiceError, StaleRecord
from app.core.forms import apply_service_error, form_status
from app.core.pagination import count_of, paginate, parse_page_number
from app.core.permissions import Permission, requires
from app.extensions import db
from app.tasks.exports import CsvExport, csv_download, register_csv_export

blueprint = Blueprint("complaints", __name__, template_folder="templates")

FormPage = str | Response | tuple[str, int]

# Prefixes of the detail page's small forms (field names such as "escalation-level").
ASSIGN_PREFIX = "assign"
ESCALATION_PREFIX = "escalation"
RECOVERY_PREFIX = "recovery"
SATISFACTION_PREFIX = "csat"
RETENTION_PREFIX = "retention"


def _me() -> User:
    return current_user._get_current_object()


def _overdue_days() -> int:
    return int(current_app.config.get("COMPLAINT_OVERDUE_DAYS", services.OVERDUE_AFTER_DAYS))


def _complaint_or_404(reference: str) -> Complaint:
    complaint = services.get_by_reference(reference)
    if complaint is None:
        abort(404)
    return complaint


def _complaint_to_change(reference: str) -> Complaint:
    """The complaint, if the signed-in user may change it: 404 when unknown, 403 when not theirs."""
    complaint = _complaint_or_404(reference)
    if not services.may_edit(_me(), complaint):
        abort(403)
    return complaint


def _to_detail(complaint: Complaint) -> Response:
    return redirect(url_for("complaints.complaint_detail", reference=complaint.reference))


# --- the list and its export -------------------------------------------------------------------


def _filter_form() -> ComplaintFilterForm:
    form = ComplaintFilterForm(request.args)
    form.set_choices(*services.list_filter_choices())
    return form


def _filters(form: ComplaintFilterForm) -> complaint_listing.ComplaintFilters:
    return complaint_listing.ComplaintFilters(
        statuses=tuple(ComplaintStatus(value) for value in form.status.data or ()),
        process_id=optional_id(form.process_id.data),
        category_id=optional_id(form.category_id.data),
        assignee_id=optional_id(form.assignee_id.data),
        channel=Channel(form.channel.data) if form.channel.data else None,
        severity=Severity(form.severity.data) if form.severity.data else None,
        received_from=form.received_from.data,
        received_to=form.received_to.data,
        overdue=bool(form.overdue.data),
        overdue_days=_overdue_days(),
        text=form.q.data or "",
    )


def _query_args(*dropped: str) -> dict[str, list[str]]:
    """The list's query parameters for building links, without `page` and `dropped`."""
    args = {}
    for key, values in request.args.to_dict(flat=False).items():
        kept = [value for value in values if value]
        if key not in ("page", *dropped) and kept:
            args[key] = kept
    return args


# A placeholder reference: the detail page's URL is built once per page with it, and each row's
# link is that URL's prefix and the row's reference (references are letters, digits and "-" by
# construction, so they need no quoting; url_for for each of 50 rows cost more than the SQL).
_REFERENCE_PLACEHOLDER = "CMP-0000-000000"


def _detail_url_prefix() -> str:
    url = url_for("complaints.complaint_detail", reference=_REFERENCE_PLACEHOLDER)
    return url[: -len(_REFERENCE_PLACEHOLDER)]


def _list_page(form: ComplaintFilterForm, page: Any, sort: str | None, status: int) -> Any:
    return render_template(
        "complaints/complaint_list.html",
        form=form,
        page=page,
        sort=sort,
        args=_query_args(),
        filter_args=_query_args("sort"),
        overdue_days=_overdue_days(),
        now=utcnow(),
        is_overdue=services.is_overdue,
        detail_url_prefix=_detail_url_prefix(),
    ), status


@blueprint.route("/complaints")
@requires(Permission.RECORDS_VIEW)
def complaint_list() -> tuple[str, int]:
    form = _filter_form()
    if request.args and not form.validate():
        return _list_page(form, None, None, 422)
    statement, sort = complaint_listing.complaint_list_query(
        _filters(form), request.args.get("sort")
    )
    page = paginate(
        db.session,
        statement,
        parse_page_number(request.args.get("page")),
        current_app.config["PAGE_SIZE"],
        load=complaint_listing.complaint_list_rows,
    )
    return _list_page(form, page, sort, 200)


@blueprint.route("/complaints/export.csv")
@requires(Permission.RECORDS_EXPORT)
def complaint_export() -> Response | tuple[str, int]:
    form = _filter_form()
    if request.args and not form.validate():
        return _list_page(form, None, None, 422)
    statement, _sort = complaint_listing.complaint_list_query(
        _filters(form), request.args.get("sort")
    )
    return csv_download("complaints", count_of(db.session, statement))


def _complaint_csv() -> CsvExport:
    """The filtered list as CSV (the export is recorded in the audit trail)."""
    form = _filter_form()
    if request.args and not form.validate():
        raise ServiceError("The list's filters are no longer valid; export the list again.")
    rows = complaint_listing.export_complaints(_filters(form), request.args.get("sort"))
    return CsvExport(
        f"complaints-{utcnow():%Y%m%d-%H%M}.csv",
        complaint_listing.CSV_HEADER,
        rows,
        complaint_listing.csv_values,
    )


register_csv_export("complaints", "Complaints", _complaint_csv)


# --- recording and editing ---------------------------------------------------------------------


@blueprint.route("/complaints/new", methods=["GET", "POST"])
@requires(Permission.RECORDS_CREATE)
def complaint_new() -> FormPage:
    form = NewComplaintForm()
    form.set_choices(
        services.customer_choices(), services.process_choices(), services.category_choices()
    )
    form.set_assignees(services.assignable_users())
    if form.validate_on_submit():
        try:
            complaint = services.record_complaint(
                user=_me(),
                title=form.title.data,
                channel=form.channel.data,
                severity=form.severity.data,
                description=form.description.data,
                product_or_service=form.product_or_service.data,
                received_at=as_utc(form.received_at.data),
                customer_id=optional_id(form.customer_id.data),
                process_id=optional_id(form.process_id.data),
                category_id=optional_id(form.category_id.data),
                assignee_id=optional_id(form.assignee_id.data),
                region=form.region.data,
            )
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            flash(f"Recorded complaint {complaint.reference}.", "success")
            return _to_detail(complaint)
    return render_template(
        "complaints/complaint_form.html", form=form, complaint=None
    ), form_status(form)


@blueprint.route("/complaints/<reference>/edit", methods=["GET", "POST"])
@requires(Permission.RECORDS_VIEW)
def complaint_edit(reference: str) -> FormPage:
    complaint = _complaint_to_change(reference)
    if services.is_read_only(complaint):
        flash(
            f"{complaint.reference} is closed and read-only; reopen it (with a reason) before "
            "you edit it.",
            "warning",
        )
        return _to_detail(complaint)
    form = EditComplaintForm(obj=complaint if request.method == "GET" else None)
    form.set_choices(
        services.customer_choices(complaint.customer_id),
        services.process_choices(complaint.process_id),
        services.category_choices(complaint.category_id),
    )
    if request.method == "GET":
        form.version.data = str(complaint.version)
        form.channel.data = complaint.channel.value
        form.severity.data = complaint.severity.value
        form.customer_id.data = str(complaint.customer_id or "")
        form.process_id.data = str(complaint.process_id or "")
        form.category_id.data = str(complaint.category_id or "")
    stale = False
    if form.validate_on_submit():
        try:
            services.update_complaint(
                complaint,
                user=_me(),
                title=form.title.data,
                description=form.description.data,
                product_or_service=form.product_or_service.data,
                customer_id=optional_id(form.customer_id.data),
                process_id=optional_id(form.process_id.data),
                category_id=optional_id(form.category_id.data),
                severity=form.severity.data,
                channel=form.channel.data,
                expected_version=form.version.data,
                region=form.region.data or "",
            )
        except ServiceError as error:
            stale = isinstance(error, StaleRecord)
            apply_service_error(form, error)
        else:
            flash(f"Saved complaint {complaint.reference}.", "success")
            return _to_detail(complaint)
    return render_template(
        "complaints/complaint_form.html",
        form=form,
        complaint=complaint,
        history=services.complaint_history(complaint),
        stale=stale,
    ), form_status(form)


# --- the complaint page ------------------------------------------------------------------------


def _render_detail(complaint: Complaint, status: int = 200, **posted: FlaskForm) -> Any:
    """The complaint page. `posted` holds a form that came back with errors (shown filled in,
    with its messages); every other form on the page is fresh and bound to nothing."""
    me = _me()
    forms: dict[str, FlaskForm] = {
        "transition_form": TransitionForm(formdata=None),
        "assign_form": AssignForm(formdata=None, prefix=ASSIGN_PREFIX),
        "escalation_form": EscalationForm(formdata=None, prefix=ESCALATION_PREFIX),
        "recovery_form": RecoveryActionForm(formdata=None, prefix=RECOVERY_PREFIX),
        "satisfaction_form": SatisfactionForm(formdata=None, prefix=SATISFACTION_PREFIX),
        "retention_form": RetentionForm(formdata=None, prefix=RETENTION_PREFIX),
    }
    fresh = set(forms) - set(posted)
    forms.update(posted)
    editable = services.may_edit(me, complaint)
    if editable:
        forms["assign_form"].set_assignees(services.assignable_users(complaint.assignee_id))
        forms["recovery_form"].set_people(services.assignable_users())
        if "assign_form" in fresh:
            forms["assign_form"].assignee_id.data = str(complaint.assignee_id or UNASSIGNED)
        if "escalation_form" in fresh:
            # The select shows the level the complaint is at; the user picks the new one.
            forms["escalation_form"].level.data = str(complaint.escalation_level)
        if "recovery_form" in fresh:
            forms["recovery_form"].done_by_id.data = str(me.id)
        if "satisfaction_form" in fresh and complaint.csat_score is not None:
            forms["satisfaction_form"].score.data = str(complaint.csat_score)
            forms["satisfaction_form"].comment.data = complaint.csat_comment
        if "retention_form" in fresh and complaint.retention_checked_at is not None:
            forms["retention_form"].status.data = complaint.retention_status.value
            forms["retention_form"].follow_up_days.data = complaint.retention_follow_up_days
    return render_template(
        "complaints/complaint_detail.html",
        complaint=complaint,
        may_edit=editable,
        read_only=services.is_read_only(complaint),
        transitions=services.available_transitions(complaint, me),
        times=services.response_times(complaint),
        format_duration=services.format_duration,
        overdue=services.is_overdue(complaint, days=_overdue_days()),
        overdue_days=_overdue_days(),
        recovery_costs=services.recovery_costs(complaint),
        history=services.complaint_history(complaint),
        trace=complaint_traceability(complaint),
        **forms,
    ), status


@blueprint.route("/complaints/<reference>")
@requires(Permission.RECORDS_VIEW)
def complaint_detail(reference: str) -> Any:
    return _render_detail(_complaint_or_404(reference))


def _change_from_form(
    complaint: Complaint,
    form: FlaskForm,
    form_name: str,
    change: Callable[[], Any],
    message: Callable[[Any], str],
) -> Any:
    """One action on a complaint's page: validate `form`, run `change`, say `message(result)` and
    go back to the complaint; a refused change re-renders the page with the form's errors (422),
    and a user who may not edit the complaint gets 403."""
    if form.validate_on_submit():
        try:
            result = change()
        except services.EditNotAllowed:
            abort(403)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            flash(message(result), "success")
            return _to_detail(complaint)
    return _render_detail(complaint, 422, **{form_name: form})


@blueprint.route("/complaints/<reference>/transition", methods=["POST"])
@requires(Permission.RECORDS_VIEW)
def complaint_transition(reference: str) -> Any:
    complaint = _complaint_to_change(reference)
    form = TransitionForm()
    return _change_from_form(
        complaint,
        form,
        "transition_form",
        lambda: services.transition_complaint(
            complaint, form.transition.data, user=_me(), reason=form.reason.data
        ),
        lambda _: f"{complaint.reference} is now {complaint.status.label.lower()}.",
    )


@blueprint.route("/complaints/<reference>/assign", methods=["POST"])
@requires(Permission.RECORDS_VIEW)
def complaint_assign(reference: str) -> Any:
    complaint = _complaint_to_change(reference)
    form = AssignForm(prefix=ASSIGN_PREFIX)
    form.set_assignees(services.assignable_users(complaint.assignee_id))

    def assigned(_: object) -> str:
        who = complaint.assignee.full_name if complaint.assignee else "nobody"
        return f"{complaint.reference} is now assigned to {who}."

    return _change_from_form(
        complaint,
        form,
        "assign_form",
        lambda: services.assign_complaint(
            complaint, optional_id(form.assignee_id.data), user=_me()
        ),
        assigned,
    )


@blueprint.route("/complaints/<reference>/escalate", methods=["POST"])
@requires(Permission.RECORDS_VIEW)
def complaint_escalate(reference: str) -> Any:
    complaint = _complaint_to_change(reference)
    form = EscalationForm(prefix=ESCALATION_PREFIX)
    return _change_from_form(
        complaint,
        form,
        "escalation_form",
        lambda: services.escalate_complaint(
            complaint, form.level.data, user=_me(), reason=form.reason.data
        ),
        lambda _: f"{complaint.reference} is now at escalation level {complaint.escalation_level}.",
    )


@blueprint.route("/complaints/<reference>/recovery-actions", methods=["POST"])
@requires(Permission.RECORDS_VIEW)
def recovery_action_add(reference: str) -> Any:
    complaint = _complaint_to_change(reference)
    form = RecoveryActionForm(prefix=RECOVERY_PREFIX)
    form.set_people(services.assignable_users())
    return _change_from_form(
        complaint,
        form,
        "recovery_form",
        lambda: services.add_recovery_action(
            complaint,
            user=_me(),
            kind=form.kind.data,
            description=form.description.data,
            amount=form.amount.data,
            currency=form.currency.data,
            done_at=as_utc(form.done_at.data),
            done_by_id=optional_id(form.done_by_id.data),
        ),
        lambda action: f"Recorded the {action.kind.label.lower()} on {complaint.reference}.",
    )


@blueprint.route("/complaints/<reference>/satisfaction", methods=["POST"])
@requires(Permission.RECORDS_VIEW)
def satisfaction_record(reference: str) -> Any:
    complaint = _complaint_to_change(reference)
    form = SatisfactionForm(prefix=SATISFACTION_PREFIX)
    return _change_from_form(
        complaint,
        form,
        "satisfaction_form",
        lambda: services.record_satisfaction(
            complaint, user=_me(), score=form.score.data, comment=form.comment.data
        ),
        lambda _: f"Recorded CSAT {complaint.csat_score} for {complaint.reference}.",
    )


@blueprint.route("/complaints/<reference>/retention", methods=["POST"])
@requires(Permission.RECORDS_VIEW)
def retention_record(reference: str) -> Any:
    complaint = _complaint_to_change(reference)
    form = RetentionForm(prefix=RETENTION_PREFIX)
    return _change_from_form(
        complaint,
        form,
        "retention_form",
        lambda: services.record_retention(
            complaint,
            user=_me(),
            status=form.status.data,
            follow_up_days=form.follow_up_days.data,
        ),
        lambda _: f"Recorded the retention follow-up of {complaint.reference}.",
    )
