"""Supplier register and SCAR pages for signed-in users. Views parse input, call one service and
render; the supplier's own response page is in `app.suppliers.external`."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from app.audit.services import history_of
from app.capa import services as capa_services
from app.complaints.models import Complaint
from app.core.db import utcnow
from app.core.errors import ServiceError, StaleRecord
from app.core.forms import apply_service_error, form_status, refuse_if_not_permitted
from app.core.permissions import Permission, requires
from app.extensions import db
from app.nonconformities.models import Nonconformity
from app.notifications.mail import mail_configured
from app.suppliers import scar as scar_services
from app.suppliers import services
from app.suppliers.forms import (
    AttributionForm,
    CancelForm,
    LinkForm,
    RemoveAttributionForm,
    ReviewForm,
    ScarForm,
    StatusForm,
    SupplierForm,
)
from app.suppliers.models import Scar, Supplier
from app.suppliers.workflow import SCAR_WORKFLOW, SUPPLIER_WORKFLOW

blueprint = Blueprint("suppliers", __name__, template_folder="templates")

FormPage = str | Response | tuple[str, int]


def _supplier_or_404(supplier_id: int) -> Supplier:
    supplier = services.get_supplier(supplier_id)
    if supplier is None:
        abort(404)
    return supplier


def _scar_or_404(reference: str) -> Scar:
    scar = scar_services.get_by_reference(reference)
    if scar is None:
        abort(404)
    return scar


def _months() -> int:
    value = request.args.get("months", "")
    months = int(value) if value.isdigit() else services.DEFAULT_PERIOD_MONTHS
    return months if months in services.PERIOD_MONTHS else services.DEFAULT_PERIOD_MONTHS


# --- the register ------------------------------------------------------------------------------


@blueprint.route("/suppliers")
@requires(Permission.RECORDS_VIEW)
def supplier_list() -> tuple[str, int]:
    months = _months()
    period = services.period_of(months)
    suppliers = services.list_suppliers()
    cards = services.scorecards([s.id for s in suppliers], period)
    return render_template(
        "suppliers/supplier_list.html",
        suppliers=suppliers,
        cards=cards,
        period=period,
        months=months,
        period_choices=services.PERIOD_MONTHS,
        may_manage=services.may_manage(current_user),
    ), 200


def _supplier_form(supplier: Supplier | None) -> SupplierForm:
    form = SupplierForm(obj=supplier if request.method == "GET" else None)
    form.process_ids.choices = [SelectChoice(p.id, p.name) for p in services.process_choices()]
    if request.method == "GET" and supplier is not None:
        form.process_ids.data = [p.id for p in supplier.processes]
        form.version.data = str(supplier.version)
    return form


@blueprint.route("/suppliers/new", methods=["GET", "POST"])
@requires(Permission.RECORDS_MANAGE)
def supplier_new() -> FormPage:
    form = _supplier_form(None)
    if form.validate_on_submit():
        try:
            supplier = services.create_supplier(
                name=form.name.data or "",
                contact_name=form.contact_name.data or "",
                contact_email=form.contact_email.data or "",
                supplies=form.supplies.data or "",
                process_ids=form.process_ids.data or [],
                status=form.status.data or "",
                status_reason=form.status_reason.data or "",
                user=current_user,
            )
        except ServiceError as error:
            refuse_if_not_permitted(error)
            apply_service_error(form, error)
        else:
            flash(f"Added the supplier {supplier.name}.", "success")
            return redirect(url_for(".supplier_detail", supplier_id=supplier.id))
    return render_template("suppliers/supplier_form.html", form=form, supplier=None), form_status(
        form
    )


def _render_supplier(supplier: Supplier, status: int = 200, **forms: Any) -> tuple[str, int]:
    months = _months()
    period = services.period_of(months)
    status_form = forms.get("status_form") or StatusForm(formdata=None)
    status_form.version.data = str(supplier.version)
    return render_template(
        "suppliers/supplier_detail.html",
        supplier=supplier,
        card=services.scorecards([supplier.id], period)[supplier.id],
        period=period,
        months=months,
        period_choices=services.PERIOD_MONTHS,
        quarters=services.quarterly_counts(supplier),
        nonconformities=services.attributed_nonconformities(supplier),
        complaints=services.attributed_complaints(supplier),
        scars=scar_services.list_scars(supplier_id=supplier.id),
        transitions=SUPPLIER_WORKFLOW.available(supplier, current_user),
        status_form=status_form,
        attribution_form=forms.get("attribution_form") or AttributionForm(formdata=None),
        remove_form=RemoveAttributionForm(formdata=None),
        may_manage=services.may_manage(current_user),
        history=history_of(supplier),
        today=utcnow().date(),
        is_overdue=scar_services.is_overdue,
    ), status


@blueprint.route("/suppliers/<int:supplier_id>")
@requires(Permission.RECORDS_VIEW)
def supplier_detail(supplier_id: int) -> tuple[str, int]:
    return _render_supplier(_supplier_or_404(supplier_id))


@blueprint.route("/suppliers/<int:supplier_id>/edit", methods=["GET", "POST"])
@requires(Permission.RECORDS_MANAGE)
def supplier_edit(supplier_id: int) -> FormPage:
    supplier = _supplier_or_404(supplier_id)
    form = _supplier_form(supplier)
    stale = False
    if form.validate_on_submit():
        try:
            services.update_supplier(
                supplier,
                expected_version=form.version.data,
                name=form.name.data or "",
                contact_name=form.contact_name.data or "",
                contact_email=form.contact_email.data or "",
                supplies=form.supplies.data or "",
                process_ids=form.process_ids.data or [],
                user=current_user,
            )
        except ServiceError as error:
            refuse_if_not_permitted(error)
            stale = isinstance(error, StaleRecord)
            apply_service_error(form, error)
        else:
            flash(f"Saved the supplier {supplier.name}.", "success")
            return redirect(url_for(".supplier_detail", supplier_id=supplier.id))
    return render_template(
        "suppliers/supplier_form.html", form=form, supplier=supplier, stale=stale
    ), form_status(form)


@blueprint.route("/suppliers/<int:supplier_id>/status", methods=["POST"])
@requires(Permission.RECORDS_MANAGE)
def supplier_status(supplier_id: int) -> FormPage:
    supplier = _supplier_or_404(supplier_id)
    form = StatusForm()
    if form.validate_on_submit():
        try:
            services.change_status(
                supplier,
                form.transition.data or "",
                form.reason.data or "",
                user=current_user,
                expected_version=form.version.data,
            )
        except ServiceError as error:
            refuse_if_not_permitted(error)
            apply_service_error(form, error)
        else:
            flash(f"{supplier.name} is now {supplier.status.label.lower()}.", "success")
            return redirect(url_for(".supplier_detail", supplier_id=supplier.id))
    db.session.refresh(supplier)
    return _render_supplier(supplier, 422, status_form=form)


@blueprint.route("/suppliers/<int:supplier_id>/attributions", methods=["POST"])
@requires(Permission.RECORDS_MANAGE)
def attribution_add(supplier_id: int) -> FormPage:
    supplier = _supplier_or_404(supplier_id)
    form = AttributionForm()
    if form.validate_on_submit():
        try:
            reference = services.attribute(
                supplier, form.kind.data or "", form.reference.data or "", user=current_user
            )
        except ServiceError as error:
            refuse_if_not_permitted(error)
            apply_service_error(form, error)
        else:
            flash(f"Attributed {reference} to {supplier.name}.", "success")
            return redirect(url_for(".supplier_detail", supplier_id=supplier.id))
    return _render_supplier(supplier, 422, attribution_form=form)


@blueprint.route("/suppliers/<int:supplier_id>/attributions/remove", methods=["POST"])
@requires(Permission.RECORDS_MANAGE)
def attribution_remove(supplier_id: int) -> FormPage:
    supplier = _supplier_or_404(supplier_id)
    form = RemoveAttributionForm()
    if not form.validate_on_submit():
        flash("Choose the attribution to remove.", "error")
        return _render_supplier(supplier, 422)
    try:
        reference = services.remove_attribution(
            supplier, form.kind.data or "", form.reference.data or "", user=current_user
        )
    except ServiceError as error:
        refuse_if_not_permitted(error)
        db.session.rollback()
        flash(error.message, "error")
        return _render_supplier(supplier, 422)
    flash(f"{reference} is no longer attributed to {supplier.name}.", "success")
    return redirect(url_for(".supplier_detail", supplier_id=supplier.id))


# --- SCARs -------------------------------------------------------------------------------------


def _show_link_if_unsent(token: str) -> None:
    if not mail_configured(current_app.config):
        flash(
            "No mail server is configured, so nothing was e-mailed: send the supplier this link "
            f"yourself (it is shown only now): {scar_services.response_url(token)}",
            "warning",
        )
    else:
        flash("The supplier has been e-mailed a response link.", "success")


@blueprint.route("/suppliers/<int:supplier_id>/scars/new", methods=["GET", "POST"])
@requires(Permission.RECORDS_MANAGE)
def scar_new(supplier_id: int) -> FormPage:
    supplier = _supplier_or_404(supplier_id)
    form = ScarForm()
    ncs = services.attributed_nonconformities(supplier)
    form.nonconformity.choices = [
        SelectChoice(nc.reference, f"{nc.reference} {nc.title}") for nc in ncs
    ]
    form.owner_id.choices = [
        SelectChoice(user.id, user.full_name)
        for user in capa_services.assignable_people()
        if capa_services.is_quality_lead(user)
    ]
    if request.method == "GET":
        form.owner_id.data = current_user.id
        chosen = request.args.get("nc")
        if chosen:
            form.nonconformity.data = chosen
    if form.validate_on_submit():
        nc = next((nc for nc in ncs if nc.reference == form.nonconformity.data), None)
        try:
            if nc is None:
                raise ServiceError(
                    f"Choose a nonconformity attributed to {supplier.name}.", field="nonconformity"
                )
            issued = scar_services.issue_scar(
                nc,
                problem=form.problem.data or "",
                due_date=form.due_date.data,
                owner_id=form.owner_id.data,
                user=current_user,
            )
        except ServiceError as error:
            refuse_if_not_permitted(error)
            apply_service_error(form, error)
        else:
            _show_link_if_unsent(issued.token)
            return redirect(url_for(".scar_detail", reference=issued.scar.reference))
    return render_template(
        "suppliers/scar_form.html", form=form, supplier=supplier, nonconformities=ncs
    ), form_status(form)


@blueprint.route("/suppliers/scars")
@requires(Permission.RECORDS_VIEW)
def scar_list() -> tuple[str, int]:
    open_only = request.args.get("open") == "1"
    return render_template(
        "suppliers/scar_list.html",
        scars=scar_services.list_scars(open_only=open_only),
        open_only=open_only,
        is_overdue=scar_services.is_overdue,
    ), 200


def _render_scar(scar: Scar, status: int = 200, **forms: Any) -> tuple[str, int]:
    review_form = forms.get("review_form") or ReviewForm(formdata=None)
    review_form.version.data = str(scar.version)
    review_form.principle_ids.choices = [
        SelectChoice(p.id, f"{p.id}. {p.name}") for p in capa_services.list_principles()
    ]
    if not review_form.is_submitted():
        review_form.principle_ids.data = [6]
    cancel_form = forms.get("cancel_form") or CancelForm(formdata=None)
    cancel_form.version.data = str(scar.version)
    return render_template(
        "suppliers/scar_detail.html",
        scar=scar,
        review_form=review_form,
        cancel_form=cancel_form,
        link_form=LinkForm(formdata=None),
        link=scar_services.current_link(scar),
        may_manage=services.may_manage(current_user),
        locked=SCAR_WORKFLOW.is_locked(scar),
        overdue=scar_services.is_overdue(scar),
        history=history_of(scar),
    ), status


@blueprint.route("/suppliers/scars/<reference>")
@requires(Permission.RECORDS_VIEW)
def scar_detail(reference: str) -> tuple[str, int]:
    return _render_scar(_scar_or_404(reference))


@blueprint.route("/suppliers/scars/<reference>/review", methods=["POST"])
@requires(Permission.RECORDS_MANAGE)
def scar_review(reference: str) -> FormPage:
    scar = _scar_or_404(reference)
    form = ReviewForm()
    form.principle_ids.choices = [
        SelectChoice(p.id, p.name) for p in capa_services.list_principles()
    ]
    if form.validate_on_submit():
        try:
            if form.decision.data == "accept":
                scar_services.accept_scar(
                    scar,
                    user=current_user,
                    expected_version=form.version.data,
                    capa_due_date=form.capa_due_date.data,
                    principle_ids=form.principle_ids.data or [],
                    comments=form.comments.data or "",
                )
                message = (
                    f"Accepted {scar.reference}; its corrective action is {scar.capa.reference}."
                )
            else:
                scar_services.return_scar(
                    scar,
                    user=current_user,
                    expected_version=form.version.data,
                    comments=form.comments.data or "",
                    due_date=form.due_date.data,
                )
                message = f"Returned {scar.reference} to {scar.supplier.name} with a new link."
        except ServiceError as error:
            refuse_if_not_permitted(error)
            apply_service_error(form, error)
        else:
            flash(message, "success")
            return redirect(url_for(".scar_detail", reference=scar.reference))
    scar = _scar_or_404(reference)
    return _render_scar(scar, 422, review_form=form)


@blueprint.route("/suppliers/scars/<reference>/link", methods=["POST"])
@requires(Permission.RECORDS_MANAGE)
def scar_link(reference: str) -> FormPage:
    scar = _scar_or_404(reference)
    form = LinkForm()
    if not form.validate_on_submit():
        flash("Choose what to do with the link.", "error")
        return _render_scar(scar, 422)
    try:
        if form.action.data == "resend":
            token = scar_services.send_new_link(scar, user=current_user)
            _show_link_if_unsent(token)
        else:
            revoked = scar_services.revoke_link(scar, user=current_user)
            flash(
                "The link has been revoked." if revoked else "There was no working link.",
                "success",
            )
    except ServiceError as error:
        refuse_if_not_permitted(error)
        db.session.rollback()
        flash(error.message, "error")
        return _render_scar(_scar_or_404(reference), 422)
    return redirect(url_for(".scar_detail", reference=scar.reference))


@blueprint.route("/suppliers/scars/<reference>/cancel", methods=["POST"])
@requires(Permission.RECORDS_MANAGE)
def scar_cancel(reference: str) -> FormPage:
    scar = _scar_or_404(reference)
    form = CancelForm()
    if form.validate_on_submit():
        try:
            scar_services.cancel_scar(
                scar, user=current_user, expected_version=form.version.data, reason=form.reason.data
            )
        except ServiceError as error:
            refuse_if_not_permitted(error)
            apply_service_error(form, error)
        else:
            flash(f"Cancelled {scar.reference}.", "success")
            return redirect(url_for(".scar_detail", reference=scar.reference))
    return _render_scar(_scar_or_404(reference), 422, cancel_form=form)


@blueprint.app_template_global("complaint_supplier")
def complaint_supplier(complaint: Complaint) -> Supplier | None:
    """The supplier a complaint is attributed to, for the complaint's page."""
    return services.supplier_of_complaint(complaint.id)


@blueprint.app_template_global("supplier_panel")
def nonconformity_supplier_panel(nc: Nonconformity) -> dict[str, Any]:
    """What the nonconformity page shows of suppliers: the supplier it is attributed to and its
    SCARs (for the template include `suppliers/_nonconformity_panel.html`)."""
    return {
        "supplier": services.supplier_of_nonconformity(nc.id),
        "scars": scar_services.scars_of_nonconformity(nc.id),
    }
