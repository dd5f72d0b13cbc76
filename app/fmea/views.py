"""Process FMEA pages: the list (with the failure modes no FMEA covers), the worksheet with its
evidence from data, rows, preventive CAPAs, revised ratings, approval, earlier revisions, XLSX
import and export, and the PDF."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request
from flask import url_for as url
from flask_login import current_user
from werkzeug.wrappers import Response

from app.accounts.services import signatures_of
from app.audit.services import history_of
from app.capa import services as capa_services
from app.core.audit import AuditAction, record_event, record_type_of
from app.core.db import renew_read_snapshot
from app.core.errors import ServiceError, StaleRecord
from app.core.forms import apply_service_error, form_status, refuse_if_not_permitted
from app.core.permissions import Permission, requires
from app.core.signatures import changed_after_signature
from app.extensions import db
from app.fmea import observed, services, xlsx
from app.fmea.forms import (
    ApproveForm,
    CapaForm,
    FmeaForm,
    ImportForm,
    RevisedForm,
    RowForm,
    VersionForm,
)
from app.fmea.models import Fmea, FmeaRow
from reports import generate_report
from reports.fmea import gather_fmea_report

blueprint = Blueprint("fmea", __name__, template_folder="templates")

FormPage = str | Response | tuple[str, int]


def _fmea_or_404(reference: str) -> Fmea:
    fmea = services.get_by_reference(reference)
    if fmea is None:
        abort(404)
    return fmea


MAX_ID = 2**31 - 1  # larger numbers in a path name no row (and overflow PostgreSQL's integer)


def _row_or_404(fmea: Fmea, row_id: int) -> FmeaRow:
    row = db.session.get(FmeaRow, row_id) if row_id <= MAX_ID else None
    if row is None or row.fmea_id != fmea.id:
        abort(404)
    return row


def _require_edit() -> None:
    if not services.may_edit(current_user):
        abort(403)


def _detail_url(fmea: Fmea) -> str:
    return url(".fmea_detail", reference=fmea.reference)


@blueprint.route("/fmea")
@requires(Permission.RECORDS_VIEW)
def fmea_list() -> tuple[str, int]:
    fmeas = services.list_fmeas()
    return render_template(
        "fmea/list.html",
        fmeas=fmeas,
        unmatched=observed.unmatched_nonconformities(),
        may_edit=services.may_edit(current_user),
        window_days=observed.WINDOW_DAYS,
    ), 200


@blueprint.route("/fmea/new", methods=["GET", "POST"])
@requires(Permission.RECORDS_VIEW)
def fmea_new() -> FormPage:
    _require_edit()
    form = FmeaForm()
    form.set_choices(services.selectable_processes(), services.selectable_owners())
    if request.method == "GET":
        form.prepared_on.data = capa_services.today_utc()
        form.owner_id.data = str(current_user.id)
        form.process_id.data = request.args.get("process", "")
    if form.validate_on_submit():
        try:
            fmea = services.create_fmea(
                title=form.title.data,
                process_id=form.process_id.data,
                process_step=form.process_step.data,
                team=form.team.data,
                scope=form.scope.data,
                owner_id=form.owner_id.data or None,
                prepared_on=form.prepared_on.data,
                next_review_on=form.next_review_on.data,
                user=current_user,
            )
        except ServiceError as error:
            refuse_if_not_permitted(error)
            apply_service_error(form, error)
        else:
            flash(f"Started the FMEA {fmea.reference}. Add its failure modes.", "success")
            return redirect(_detail_url(fmea))
    return render_template("fmea/form.html", form=form, fmea=None), form_status(form)


def _render_detail(fmea: Fmea, status: int = 200, **forms: Any) -> tuple[str, int]:
    rows = services.rows_of(fmea)
    capa_ids = [action.capa_id for row in rows for action in row.actions]
    effective = services.effective_capa_ids(capa_ids)
    revisions = services.revisions_with_signatures(fmea)
    return render_template(
        "fmea/detail.html",
        fmea=fmea,
        rows=rows,
        evidence=observed.evidence_for_rows(fmea, rows),
        effective=effective,
        unmatched=observed.unmatched_nonconformities(fmea.process_id),
        window_days=observed.WINDOW_DAYS,
        revisions=revisions,
        may_edit=services.may_edit(current_user),
        may_approve=services.may_approve(current_user),
        approve_form=forms.get("approve_form") or ApproveForm(formdata=None),
        delete_error=forms.get("delete_error"),
        stale=forms.get("stale", False),
        history=history_of(fmea),
    ), status


@blueprint.route("/fmea/<reference>")
@requires(Permission.RECORDS_VIEW)
def fmea_detail(reference: str) -> tuple[str, int]:
    return _render_detail(_fmea_or_404(reference))


@blueprint.route("/fmea/<reference>/edit", methods=["GET", "POST"])
@requires(Permission.RECORDS_VIEW)
def fmea_edit(reference: str) -> FormPage:
    fmea = _fmea_or_404(reference)
    _require_edit()
    form = FmeaForm(obj=fmea if request.method == "GET" else None)
    form.set_choices(
        services.selectable_processes(fmea.process_id), services.selectable_owners(fmea.owner_id)
    )
    if request.method == "GET":
        form.process_id.data = str(fmea.process_id)
        form.owner_id.data = str(fmea.owner_id or "")
        form.version.data = str(fmea.version)
    stale = False
    if form.validate_on_submit():
        try:
            services.update_fmea(
                fmea,
                title=form.title.data,
                process_id=form.process_id.data,
                process_step=form.process_step.data,
                team=form.team.data,
                scope=form.scope.data,
                owner_id=form.owner_id.data or None,
                prepared_on=form.prepared_on.data,
                next_review_on=form.next_review_on.data,
                expected_version=form.version.data or "",
                user=current_user,
            )
        except ServiceError as error:
            refuse_if_not_permitted(error)
            stale = isinstance(error, StaleRecord)
            apply_service_error(form, error)
        else:
            flash(f"Saved {fmea.reference}.", "success")
            return redirect(_detail_url(fmea))
    return render_template("fmea/form.html", form=form, fmea=fmea, stale=stale), form_status(form)


def _row_page(fmea: Fmea, row: FmeaRow | None) -> FormPage:
    _require_edit()
    form = RowForm(obj=row if request.method == "GET" else None)
    current = [c.id for c in row.categories] if row else []
    form.set_choices(services.selectable_categories(current))
    if request.method == "GET" and row is not None:
        form.category_ids.data = [str(c) for c in current]
        form.version.data = str(row.version)
    elif request.method == "GET":
        # "Add to this FMEA" from a failure mode not in it: start from that nonconformity.
        form.failure_mode.data = request.args.get("failure_mode", "")[
            : services.FAILURE_MODE_MAX_LENGTH
        ]
        form.category_ids.data = request.args.getlist("category")
    stale = False
    if form.validate_on_submit():
        try:
            if row is None:
                services.add_row(
                    fmea,
                    values=form.row_values(),
                    category_ids=form.category_ids.data or [],
                    user=current_user,
                )
            else:
                services.update_row(
                    row,
                    values=form.row_values(),
                    category_ids=form.category_ids.data or [],
                    expected_version=form.version.data or "",
                    user=current_user,
                )
        except ServiceError as error:
            refuse_if_not_permitted(error)
            stale = isinstance(error, StaleRecord)
            apply_service_error(form, error)
        else:
            flash("Saved the row.", "success")
            return redirect(_detail_url(fmea) + "#worksheet")
    elif form.is_submitted():
        # Let the service name every scale problem too, not only the WTForms ones.
        try:
            services.checked_row_values(form.row_values())
        except ServiceError as error:
            field = getattr(form, error.field or "", None)
            if field is not None and error.message not in field.errors:
                field.errors = [*field.errors, error.message]
    return render_template(
        "fmea/row_form.html", form=form, fmea=fmea, row=row, stale=stale
    ), form_status(form)


@blueprint.route("/fmea/<reference>/rows/new", methods=["GET", "POST"])
@requires(Permission.RECORDS_VIEW)
def row_new(reference: str) -> FormPage:
    return _row_page(_fmea_or_404(reference), None)


@blueprint.route("/fmea/<reference>/rows/<int:row_id>/edit", methods=["GET", "POST"])
@requires(Permission.RECORDS_VIEW)
def row_edit(reference: str, row_id: int) -> FormPage:
    fmea = _fmea_or_404(reference)
    return _row_page(fmea, _row_or_404(fmea, row_id))


@blueprint.route("/fmea/<reference>/rows/<int:row_id>/delete", methods=["POST"])
@requires(Permission.RECORDS_VIEW)
def row_delete(reference: str, row_id: int) -> Response | tuple[str, int]:
    fmea = _fmea_or_404(reference)
    row = _row_or_404(fmea, row_id)
    _require_edit()
    form = VersionForm()
    try:
        services.delete_row(row, expected_version=form.version.data or "", user=current_user)
    except ServiceError as error:
        refuse_if_not_permitted(error)
        db.session.rollback()
        return _render_detail(
            fmea, 422, delete_error=(row_id, error.message), stale=isinstance(error, StaleRecord)
        )
    flash("Removed the row.", "success")
    return redirect(_detail_url(fmea) + "#worksheet")


@blueprint.route("/fmea/<reference>/rows/<int:row_id>/capa", methods=["GET", "POST"])
@requires(Permission.RECORDS_VIEW)
def row_capa(reference: str, row_id: int) -> FormPage:
    fmea = _fmea_or_404(reference)
    row = _row_or_404(fmea, row_id)
    _require_edit()
    form = CapaForm()
    form.set_choices(services.selectable_owners(), capa_services.list_principles())
    if request.method == "GET":
        form.title.data = (row.recommended_action.splitlines() or [""])[0][
            : services.TITLE_MAX_LENGTH
        ]
        form.owner_id.data = str(fmea.owner_id or current_user.id)
    if form.validate_on_submit():
        try:
            capa = services.raise_preventive_capa(
                row,
                title=form.title.data,
                owner_id=form.owner_id.data,
                due_date=form.due_date.data,
                principle_ids=form.principles.data,
                user=current_user,
            )
        except ServiceError as error:
            refuse_if_not_permitted(error, capa_services.NotAllowed)
            apply_service_error(form, error)
        else:
            flash(f"Planned the preventive CAPA {capa.reference} for this row.", "success")
            return redirect(_detail_url(fmea) + "#worksheet")
    return render_template("fmea/capa_form.html", form=form, fmea=fmea, row=row), form_status(form)


@blueprint.route("/fmea/<reference>/rows/<int:row_id>/revised", methods=["GET", "POST"])
@requires(Permission.RECORDS_VIEW)
def row_revised(reference: str, row_id: int) -> FormPage:
    fmea = _fmea_or_404(reference)
    row = _row_or_404(fmea, row_id)
    _require_edit()
    form = RevisedForm()
    if request.method == "GET":
        form.severity.data = str(row.revised_severity or row.severity)
        form.occurrence.data = str(row.revised_occurrence or row.occurrence)
        form.detection.data = str(row.revised_detection or row.detection)
        form.version.data = str(row.version)
    stale = False
    if form.validate_on_submit():
        try:
            services.record_revised_ratings(
                row,
                severity=form.severity.data,
                occurrence=form.occurrence.data,
                detection=form.detection.data,
                expected_version=form.version.data or "",
                user=current_user,
            )
        except ServiceError as error:
            refuse_if_not_permitted(error)
            stale = isinstance(error, StaleRecord)
            apply_service_error(form, error)
        else:
            flash("Recorded the risk after the action.", "success")
            return redirect(_detail_url(fmea) + "#worksheet")
    effective = services.effective_capa_ids(action.capa_id for action in row.actions)
    return render_template(
        "fmea/revised_form.html", form=form, fmea=fmea, row=row, effective=effective, stale=stale
    ), form_status(form)


@blueprint.route("/fmea/<reference>/approve", methods=["POST"])
@requires(Permission.RECORDS_VIEW)
def fmea_approve(reference: str) -> Response | tuple[str, int]:
    fmea = _fmea_or_404(reference)
    _require_edit()
    form = ApproveForm()
    stale = False
    if form.validate_on_submit():
        try:
            revision, signature = services.approve_revision(
                fmea,
                current_user,
                form.password.data,
                change_note=form.change_note.data,
                expected_version=form.version.data or "",
            )
        except ServiceError as error:
            refuse_if_not_permitted(error)
            stale = isinstance(error, StaleRecord)
            apply_service_error(form, error)
        else:
            flash(f"Approved {revision.label}: {signature.manifestation()}.", "success")
            return redirect(_detail_url(fmea))
    form.password.data = ""
    return _render_detail(fmea, 422, approve_form=form, stale=stale)


@blueprint.route("/fmea/<reference>/revisions/<int:number>")
@requires(Permission.RECORDS_VIEW)
def revision_detail(reference: str, number: int) -> tuple[str, int]:
    fmea = _fmea_or_404(reference)
    revision = services.revision_of(fmea, number) if number <= MAX_ID else None
    if revision is None:
        abort(404)
    signatures = [
        (sig, not sig.is_void and changed_after_signature(sig, revision))
        for sig in signatures_of(revision)
    ]
    return render_template(
        "fmea/revision.html",
        fmea=fmea,
        revision=revision,
        snapshot=revision.snapshot,
        signatures=signatures,
    ), 200


@blueprint.route("/fmea/<reference>/export.xlsx")
@requires(Permission.RECORDS_EXPORT)
def fmea_export(reference: str) -> Response:
    fmea = _fmea_or_404(reference)
    content = xlsx.export_workbook(fmea)
    renew_read_snapshot(db.session)
    record_event(
        db.session,
        AuditAction.EXPORT,
        record_type_of(fmea),
        str(fmea.id),
        changes={"format": "xlsx", "revision": fmea.revision},
    )
    response = Response(
        content,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    filename = f"{fmea.reference}-rev{fmea.revision}.xlsx"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@blueprint.route("/fmea/<reference>/import", methods=["GET", "POST"])
@requires(Permission.RECORDS_VIEW)
def fmea_import(reference: str) -> FormPage:
    fmea = _fmea_or_404(reference)
    _require_edit()
    form = ImportForm()
    problems: list[str] = []
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read(xlsx.MAX_BYTES + 1) if upload else b""
        try:
            rows = xlsx.import_rows(fmea, data, user=current_user)
        except xlsx.ImportRefused as error:
            db.session.rollback()
            problems = error.problems
        except ServiceError as error:
            refuse_if_not_permitted(error)
            db.session.rollback()
            problems = [error.message]
        else:
            flash(f"Imported {len(rows)} rows into {fmea.reference}.", "success")
            return redirect(_detail_url(fmea) + "#worksheet")
    elif form.is_submitted():
        problems = ["The form expired: choose the file again."]
    return render_template(
        "fmea/import.html", form=form, fmea=fmea, problems=problems
    ), 422 if problems else 200


@blueprint.route("/fmea/<reference>/worksheet.pdf")
@requires(Permission.RECORDS_EXPORT)
def fmea_pdf(reference: str) -> Response:
    fmea = _fmea_or_404(reference)
    generated = generate_report(
        db.session,
        gather_fmea_report(fmea),
        generated_by=f"{current_user.full_name} ({current_user.email}, {current_user.role.label})",
        organisation=current_app.config["ORG_NAME"],
    )
    response = Response(generated.pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{generated.filename}"'
    response.headers["X-Report-Id"] = generated.report_id
    return response
