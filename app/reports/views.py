"""The Reports page and every PDF download. Views parse input, gather one report, generate it."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.audit import services as audit_services
from app.audits import services as internal_audit_services
from app.capa import services as capa_services
from app.complaints import services as complaint_services
from app.core.db import continue_read_only, utcnow
from app.core.errors import ServiceError
from app.core.pagination import count_of
from app.core.permissions import Permission, requires
from app.extensions import db
from app.nonconformities import services as nc_services
from app.nonconformities.forms import NonconformityFilterForm
from app.reports import archive
from app.reports.forms import (
    AuditExtractForm,
    QualityReviewForm,
    RecordReportForm,
    described_filters,
)
from app.reviews import services as review_services
from app.tasks import services as task_services
from app.tasks.services import TaskContext, TaskKind, TaskResult
from app.tasks.views import redirect_to
from reports import Report, ReportError, generate_report
from reports.audit_extract import (
    MAX_EVENTS,
    ExtractScope,
    check_scope,
    extract_size,
    gather_audit_extract,
    record_scope,
)
from reports.capa import gather_capa_report
from reports.complaint import gather_complaint_report
from reports.eight_d import gather_eight_d_report, load_nonconformity
from reports.generate import GeneratedReport
from reports.internal_audit import gather_audit_report
from reports.management_review import gather_review_minutes
from reports.nonconformity_register import gather_nonconformity_register
from reports.quality_review import ReviewPeriod, gather_quality_review, month_before

blueprint = Blueprint("reports", __name__, template_folder="templates")


def _register_form() -> NonconformityFilterForm:
    form = NonconformityFilterForm(request.args)
    form.set_choices(
        nc_services.selectable_processes(),
        nc_services.selectable_categories(),
        nc_services.assignable_owners(),
    )
    return form


def _page(
    status: int = 200,
    *,
    register_form: NonconformityFilterForm | None = None,
    extract_form: AuditExtractForm | None = None,
    record_form: RecordReportForm | None = None,
    review_form: QualityReviewForm | None = None,
) -> tuple[str, int]:
    if register_form is None:
        register_form = NonconformityFilterForm(formdata=None)
        register_form.set_choices(
            nc_services.selectable_processes(),
            nc_services.selectable_categories(),
            nc_services.assignable_owners(),
        )
    if review_form is None:
        last_month = month_before(utcnow().date())
        review_form = QualityReviewForm(
            formdata=None, date_from=last_month.first, date_to=last_month.last
        )
    return render_template(
        "reports/index.html",
        register_form=register_form,
        extract_form=extract_form or AuditExtractForm(formdata=None),
        record_form=record_form or RecordReportForm(formdata=None),
        review_form=review_form,
        archived_packs=archive.archived_packs(),
    ), status


def _generated(report: Report) -> GeneratedReport:
    return generate_report(
        db.session,
        report,
        generated_by=f"{current_user.full_name} ({current_user.email}, {current_user.role.label})",
        organisation=current_app.config["ORG_NAME"],
    )


def _pdf(report: Report) -> Response:
    generated = _generated(report)
    response = Response(generated.pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{generated.filename}"'
    response.headers["X-Report-Id"] = generated.report_id
    return response


@blueprint.route("/reports")
@requires(Permission.RECORDS_EXPORT)
def index() -> tuple[str, int]:
    return _page()


@blueprint.route("/reports/record")
@requires(Permission.RECORDS_EXPORT)
def record_report() -> Response | tuple[str, int]:
    """Send the reference typed on the Reports page to its record's report."""
    form = RecordReportForm(request.args)
    reference = (form.record.data or "").strip().upper()
    if form.validate() and reference:
        if reference.startswith("CAPA-") and capa_services.capa_by_reference(reference):
            return redirect(url_for("reports.capa_report", reference=reference))
        if reference.startswith("NC-") and nc_services.get_by_reference(reference):
            return redirect(url_for("reports.eight_d_report", reference=reference))
        if reference.startswith("CMP-") and complaint_services.get_by_reference(reference):
            return redirect(url_for("reports.complaint_report", reference=reference))
        form.record.errors = [
            f"No complaint, nonconformity or CAPA has the reference “{reference}”."
        ]
    elif not form.record.errors:
        form.record.errors = ["Type a reference such as CAPA-2026-000001."]
    return _page(422, record_form=form)


@blueprint.route("/reports/capa/<reference>.pdf")
@requires(Permission.RECORDS_EXPORT)
def capa_report(reference: str) -> Response:
    capa = capa_services.capa_by_reference(reference)
    if capa is None:
        abort(404)
    return _pdf(gather_capa_report(capa))


@blueprint.route("/reports/nonconformities/<reference>/8d.pdf")
@requires(Permission.RECORDS_EXPORT)
def eight_d_report(reference: str) -> Response:
    nc = load_nonconformity(reference)
    if nc is None:
        abort(404)
    return _pdf(gather_eight_d_report(nc))


@blueprint.route("/reports/audits/<reference>.pdf")
@requires(Permission.RECORDS_EXPORT)
def audit_report(reference: str) -> Response:
    audit = internal_audit_services.get_by_reference(reference)
    if audit is None:
        abort(404)
    return _pdf(gather_audit_report(audit))


@blueprint.route("/reports/reviews/<reference>/minutes.pdf")
@requires(Permission.RECORDS_EXPORT)
def review_minutes(reference: str) -> Response:
    review = review_services.get_by_reference(reference)
    if review is None:
        abort(404)
    return _pdf(gather_review_minutes(review))


@blueprint.route("/reports/complaints/<reference>/recovery.pdf")
@requires(Permission.RECORDS_EXPORT)
def complaint_report(reference: str) -> Response:
    complaint = complaint_services.get_by_reference(reference)
    if complaint is None:
        abort(404)
    return _pdf(gather_complaint_report(complaint))


@blueprint.route("/reports/nonconformity-register.pdf")
@requires(Permission.RECORDS_EXPORT)
def nonconformity_register() -> Response | tuple[str, int]:
    """The register of the nonconformities the list's filters select (the same query string)."""
    form = _register_form()
    if request.args and not form.validate():
        return _page(422, register_form=form)
    statement, _sort = nc_services.nonconformity_list_query(form.filters())
    rows = count_of(db.session, statement)
    if rows > int(current_app.config["REPORT_SYNC_MAX_ROWS"]):
        return _in_background("nonconformity-register", f"Nonconformity register ({rows:,} rows)")
    report = gather_nonconformity_register(form.filters(), described_filters(form))
    return _pdf(report)


def _in_background(kind: str, title: str) -> Response:
    """Queue the report the request asks for as a background task and go to its page."""
    task = task_services.enqueue(
        kind,
        {"path": request.path, "args": request.args.to_dict(flat=False)},
        current_user,
        title=f"{title}, PDF",
    )
    return redirect_to(task)


def _pdf_result(report: Report, context: TaskContext) -> TaskResult:
    context.progress(1, 3, "Rendering the PDF")
    generated = _generated(report)
    return TaskResult(
        message=f"The report {generated.report_id} is ready: {generated.pages} pages.",
        content=generated.pdf,
        filename=generated.filename,
        mimetype="application/pdf",
    )


def _register_task(context: TaskContext) -> TaskResult:
    form = _register_form()
    if request.args and not form.validate():
        raise ServiceError("The register's filters are no longer valid; ask for it again.")
    context.progress(0, 3, "Reading the nonconformities")
    return _pdf_result(
        gather_nonconformity_register(form.filters(), described_filters(form)), context
    )


task_services.register_task_kind(
    TaskKind("nonconformity-register", "Nonconformity register", _register_task)
)


@blueprint.route("/reports/audit-trail.pdf")
@requires(Permission.RECORDS_EXPORT)
def audit_extract() -> Response | tuple[str, int]:
    form = AuditExtractForm(request.args)
    if not form.validate():
        return _page(422, extract_form=form)
    try:
        scope = _extract_scope(form)
        check_scope(scope)
        events = extract_size(scope)
        if (
            events > int(current_app.config["AUDIT_EXTRACT_SYNC_MAX_EVENTS"])
            or audit_services.chain_length()
            > int(current_app.config["AUDIT_VERIFY_SYNC_MAX_EVENTS"])
        ) and events <= MAX_EVENTS:
            return _in_background("audit-extract", f"Audit-trail extract ({events:,} events)")
        # Verifying the whole chain reads for seconds at scale: do it without the write lock, then
        # end that read so that recording the export starts a write transaction of its own.
        continue_read_only(db.session)
        report = gather_audit_extract(scope)
        db.session.commit()
    except ReportError as error:
        field = getattr(form, error.field or "", None)
        if field is not None:
            field.errors = [*field.errors, error.message]
        else:
            form.form_errors.append(error.message)
        return _page(422, extract_form=form)
    return _pdf(report)


def _extract_scope(form: AuditExtractForm) -> ExtractScope:
    if form.reference.data:
        record_type, record_id, label = record_scope(form.reference.data)
    else:
        record_type = (form.record_type.data or "").strip() or None
        record_id = (form.record_id.data or "").strip() or None
        label = None
    return ExtractScope(
        record_type=record_type,
        record_id=record_id,
        label=label,
        date_from=form.date_from.data,
        date_to=form.date_to.data,
    )


def _extract_task(context: TaskContext) -> TaskResult:
    form = AuditExtractForm(request.args)
    if not form.validate():
        raise ServiceError("The extract's choices are no longer valid; ask for it again.")
    context.progress(0, 3, "Reading the events and verifying the chain")
    try:
        report = gather_audit_extract(_extract_scope(form))
    except ReportError as error:
        raise ServiceError(error.message) from None
    return _pdf_result(report, context)


task_services.register_task_kind(TaskKind("audit-extract", "Audit-trail extract", _extract_task))


@blueprint.route("/reports/quality-review.pdf")
@requires(Permission.RECORDS_EXPORT)
def quality_review() -> Response | tuple[str, int]:
    """The quality review pack of a period (whole UTC days, both included)."""
    form = QualityReviewForm(request.args)
    if not form.validate():
        return _page(422, review_form=form)
    try:
        report = gather_quality_review(ReviewPeriod(form.date_from.data, form.date_to.data))
    except ReportError as error:
        field = getattr(form, error.field or "", None)
        if field is not None:
            field.errors = [*field.errors, error.message]
        else:
            form.form_errors.append(error.message)
        return _page(422, review_form=form)
    return _pdf(report)


@blueprint.route("/reports/archive/<int:archived_id>.pdf")
@requires(Permission.RECORDS_EXPORT)
def archived_report(archived_id: int) -> Response:
    """An archived review pack, byte for byte as it was kept."""
    archived = archive.download_archived(archived_id)
    if archived is None:
        abort(404)
    response = Response(archived.pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{archived.filename}"'
    response.headers["X-Report-Id"] = archived.report_id
    return response
