"""Corrective and preventive actions, effectiveness checks, training (employee recovery)."""

from __future__ import annotations

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
from werkzeug.wrappers import Response

from app.accounts.models import User
from app.audit.services import history_of
from app.capa import effectiveness as capa_effectiveness
from app.capa import listing as capa_listing
from app.capa import services
from app.capa import training as capa_training
from app.capa.forms import (
    CapaFilterForm,
    CapaForm,
    CheckPlanForm,
    CheckResultForm,
    CompleteTrainingForm,
    EditCapaForm,
    EvaluateForm,
    SignForm,
    TrainingForm,
    TransitionForm,
    optional_id,
    split_references,
)
from app.capa.models import (
    Capa,
    CapaKind,
    CapaStatus,
    CheckMethod,
    CheckResult,
    EffectivenessCheck,
    RecoveryDimension,
    TrainingAssignment,
)
from app.core.audit import AuditAction, record_event
from app.core.errors import ServiceError, StaleRecord
from app.core.forms import apply_service_error, form_status
from app.core.listing import batched_rows
from app.core.pagination import count_of, paginate, parse_page_number
from app.core.permissions import Permission, requires, role_can
from app.documents import reading as document_reading
from app.documents import services as document_services
from app.extensions import db
from app.scheduler.signals import recurrence_flags
from app.tasks.exports import CsvExport, csv_download, register_csv_export

blueprint = Blueprint("capa", __name__, template_folder="templates")

FormPage = str | Response | tuple[str, int]


def _user() -> User:
    return current_user._get_current_object()  # type: ignore[attr-defined]


def _capa_or_404(reference: str) -> Capa:
    capa = services.capa_by_reference(reference)
    if capa is None:
        abort(404)
    return capa


def _detail_url(capa: Capa) -> str:
    return url_for("capa.capa_detail", reference=capa.reference)


# --- the list and its export -------------------------------------------------------------------


def _filter_form() -> CapaFilterForm:
    form = CapaFilterForm(request.args)
    form.set_choices(
        capa_listing.owner_choices(),
        services.list_principles(),
        capa_listing.process_choices(),
        capa_listing.category_choices(),
    )
    return form


def _filters(form: CapaFilterForm) -> capa_listing.CapaFilters:
    return capa_listing.CapaFilters(
        status=CapaStatus(form.status.data) if form.status.data else None,
        owner_id=optional_id(form.owner_id.data),
        kind=CapaKind(form.kind.data) if form.kind.data else None,
        recovery_dimension=RecoveryDimension(form.recovery.data) if form.recovery.data else None,
        principle_id=optional_id(form.principle_id.data),
        process_id=optional_id(form.process_id.data),
        category_id=optional_id(form.category_id.data),
        due_from=form.due_from.data,
        due_to=form.due_to.data,
        overdue=bool(form.overdue.data),
    )


def _list_args() -> dict[str, str]:
    return {key: value for key, value in request.args.items() if key != "page" and value}


@blueprint.route("/capa")
@requires(Permission.RECORDS_VIEW)
def capa_list() -> tuple[str, int]:
    form = _filter_form()
    args = _list_args()
    if request.args and not form.validate():
        return render_template("capa/capa_list.html", form=form, page=None, args=args), 422
    statement, sort = capa_listing.capa_list_query(_filters(form), request.args.get("sort"))
    page = paginate(
        db.session,
        statement,
        parse_page_number(request.args.get("page")),
        current_app.config["PAGE_SIZE"],
    )
    return render_template(
        "capa/capa_list.html",
        form=form,
        page=page,
        args=args,
        sort=sort,
        today=services.today_utc(),
        is_overdue=services.is_overdue,
    ), 200


CSV_HEADER = [
    "Reference",
    "Title",
    "Kind",
    "Recovery",
    "Status",
    "Owner",
    "Due date",
    "Overdue",
    "Cost",
    "TQM principles",
    "Nonconformities",
    "Implemented at (UTC)",
    "Closed at (UTC)",
]


@blueprint.route("/capa/export.csv")
@requires(Permission.RECORDS_EXPORT)
def capa_export() -> Response | tuple[str, int]:
    form = _filter_form()
    args = _list_args()
    if request.args and not form.validate():
        return render_template("capa/capa_list.html", form=form, page=None, args=args), 422
    statement, _ = capa_listing.capa_list_query(_filters(form), request.args.get("sort"))
    return csv_download("capa", count_of(db.session, statement))


def _capa_csv() -> CsvExport:
    """The filtered list as CSV (the export is recorded in the audit trail)."""
    form = _filter_form()
    args = _list_args()
    if request.args and not form.validate():
        raise ServiceError("The list's filters are no longer valid; export the list again.")
    statement, _ = capa_listing.capa_list_query(_filters(form), request.args.get("sort"))
    record_event(
        db.session,
        AuditAction.EXPORT,
        "capa",
        changes={"format": "csv", "filters": args},
    )
    today = services.today_utc()

    def row_values(capa: Capa) -> list[Any]:
        return [
            capa.reference,
            capa.title,
            capa.kind.label,
            capa.recovery_dimension.label,
            capa.status.label,
            capa.owner.full_name if capa.owner else "",
            capa.due_date.isoformat() if capa.due_date else "",
            "yes" if services.is_overdue(capa, today) else "no",
            f"{capa.cost:.2f}" if capa.cost is not None else "",
            "; ".join(principle.name for principle in capa.principles),
            "; ".join(nc.reference for nc in capa.nonconformities),
            capa.implemented_at.strftime("%Y-%m-%d %H:%M:%S") if capa.implemented_at else "",
            capa.closed_at.strftime("%Y-%m-%d %H:%M:%S") if capa.closed_at else "",
        ]

    return CsvExport(
        f"capa-{today.isoformat()}.csv", CSV_HEADER, batched_rows(db.session, statement), row_values
    )


register_csv_export("capa", "CAPAs", _capa_csv)


# --- planning and editing ----------------------------------------------------------------------


def _capa_values(form: CapaForm) -> dict[str, Any]:
    return {
        "kind": form.kind.data,
        "recovery_dimension": form.recovery_dimension.data,
        "title": form.title.data,
        "description": form.description.data or "",
        "owner_id": optional_id(form.owner_id.data),
        "due_date": form.due_date.data,
        "cost": form.cost.data,
        "principle_ids": form.principles.data or [],
        "root_cause_ids": form.root_causes.data or [],
    }


def _root_cause_choices(references_text: str | None) -> list[Any]:
    found = services.find_nonconformities(split_references(references_text))
    return services.root_cause_options(nc.id for nc in found)


@blueprint.route("/capa/new", methods=["GET", "POST"])
@requires(Permission.RECORDS_MANAGE)
def capa_new() -> FormPage:
    follow_up_reference = (request.values.get("follow_up_of") or "").strip()
    original = None
    if follow_up_reference:
        original = _capa_or_404(follow_up_reference)
    form = CapaForm()
    if request.method == "GET":
        if original is not None:
            _prefill_follow_up(form, original)
        else:
            form.nonconformities.data = (request.args.get("nonconformity") or "").strip().upper()
    form.set_choices(
        services.assignable_people(),
        services.list_principles(),
        _root_cause_choices(form.nonconformities.data),
    )
    if form.validate_on_submit():
        try:
            nonconformity_ids = services.nonconformity_ids_for(
                split_references(form.nonconformities.data)
            )
            if original is not None:
                capa = services.create_follow_up(
                    original,
                    **_capa_values(form),
                    nonconformity_ids=nonconformity_ids,
                    user=_user(),
                )
            else:
                capa = services.plan_capa(
                    **_capa_values(form), nonconformity_ids=nonconformity_ids, user=_user()
                )
        except services.NotAllowed:
            abort(403)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            flash(f"Planned {capa.reference}: {capa.title}.", "success")
            return redirect(_detail_url(capa))
    return render_template(
        "capa/capa_form.html",
        form=form,
        capa=None,
        original=original,
        principles=services.list_principles(),
    ), form_status(form)


def _prefill_follow_up(form: CapaForm, original: Capa) -> None:
    form.follow_up_of.data = original.reference
    form.title.data = f"Follow-up to {original.reference}: {original.title}"[:200]
    form.kind.data = CapaKind.CORRECTIVE.value
    form.recovery_dimension.data = original.recovery_dimension.value
    form.owner_id.data = str(original.owner_id or "")
    form.principles.data = [principle.id for principle in original.principles]
    form.nonconformities.data = ", ".join(nc.reference for nc in original.nonconformities)


@blueprint.route("/capa/<reference>/edit", methods=["GET", "POST"])
@requires(Permission.RECORDS_CREATE)
def capa_edit(reference: str) -> FormPage:
    capa = _capa_or_404(reference)
    user = _user()
    if not services.may_edit(user, capa):
        abort(403)
    if services.is_read_only(capa):
        flash(
            f"{capa.reference} is closed and read-only; reopen it (with a reason) before you "
            "edit it.",
            "warning",
        )
        return redirect(_detail_url(capa))
    form = EditCapaForm(obj=capa if request.method == "GET" else None)
    if request.method == "GET":
        form.version.data = str(capa.version)
        form.kind.data = capa.kind.value
        form.recovery_dimension.data = capa.recovery_dimension.value
        form.owner_id.data = str(capa.owner_id or "")
        form.principles.data = [principle.id for principle in capa.principles]
        form.root_causes.data = [cause.id for cause in capa.root_causes]
        form.nonconformities.data = ", ".join(nc.reference for nc in capa.nonconformities)
    form.set_choices(
        services.assignable_people(capa.owner_id),
        services.list_principles(),
        _root_cause_choices(form.nonconformities.data),
    )
    stale = False
    if form.validate_on_submit():
        try:
            services.update_capa(
                capa,
                user=user,
                **_capa_values(form),
                nonconformity_ids=services.nonconformity_ids_for(
                    split_references(form.nonconformities.data)
                ),
                expected_version=form.version.data,
            )
        except services.NotAllowed:
            abort(403)
        except ServiceError as error:
            stale = isinstance(error, StaleRecord)
            apply_service_error(form, error)
        else:
            flash(f"Saved {capa.reference}.", "success")
            return redirect(_detail_url(capa))
    return render_template(
        "capa/capa_form.html",
        form=form,
        capa=capa,
        original=None,
        principles=services.list_principles(),
        stale=stale,
        history=history_of(capa),
    ), form_status(form)


# --- the CAPA page and its forms ---------------------------------------------------------------


def _render_detail(capa: Capa, status: int = 200, **overrides: Any) -> tuple[str, int]:
    """The CAPA page; `overrides` replace the blank forms (a submitted form with its errors)
    or add messages (`training_error`, `check_errors`)."""
    user = _user()
    training_form = overrides.pop("training_form", None) or TrainingForm(
        formdata=None, prefix="training"
    )
    training_form.set_choices(services.assignable_people())
    result_forms = {
        check.id: CheckResultForm(formdata=None, prefix=f"result{check.id}")
        for check in capa.checks
        if check.result == CheckResult.PENDING
    }
    result_forms.update(overrides.pop("result_forms", {}))
    context = {
        "capa": capa,
        "user": user,
        "may_edit": services.may_edit(user, capa),
        "is_quality_lead": services.is_quality_lead(user),
        "may_sign": role_can(user.role, Permission.RECORDS_SIGN),
        "today": services.today_utc(),
        "is_overdue": services.is_overdue,
        "complaints": services.complaints_answered(capa),
        "follow_ups": services.follow_ups_of(capa),
        "transitions": services.available_transitions(capa, user),
        "signatures": services.signature_rows(capa),
        "history": history_of(capa),
        "recurrence_flags": recurrence_flags(capa),
        "transition_form": TransitionForm(formdata=None),
        "training_form": training_form,
        "check_form": CheckPlanForm(formdata=None, prefix="check"),
        "result_forms": result_forms,
        "evaluate_form": EvaluateForm(formdata=None),
        "complete_form": CompleteTrainingForm(formdata=None),
        "effectiveness_form": SignForm(formdata=None, prefix="effectiveness"),
        "closure_form": SignForm(formdata=None, prefix="closure"),
        "effectiveness_refusal": services.signing_refusal(
            capa, user, services.EFFECTIVENESS_PURPOSE
        ),
        "closure_refusal": services.signing_refusal(capa, user, services.CLOSURE_PURPOSE),
        "training_error": None,
        "check_errors": {},
        "check_plannable": capa.status in services.CHECK_PLANNING_STATUSES,
        "results_recordable": capa.status in services.CHECK_RESULT_STATUSES,
        "CheckMethod": CheckMethod,
        "CheckResult": CheckResult,
        "CapaStatus": CapaStatus,
        "RecoveryDimension": RecoveryDimension,
        # Process recovery made visible: the controlled documents this CAPA changed.
        "document_changes": document_services.revisions_caused_by(capa),
    }
    context.update(overrides)
    return render_template("capa/capa_detail.html", **context), status


@blueprint.route("/capa/<reference>")
@requires(Permission.RECORDS_VIEW)
def capa_detail(reference: str) -> tuple[str, int]:
    return _render_detail(_capa_or_404(reference))


@blueprint.route("/capa/<reference>/transition", methods=["POST"])
@requires(Permission.RECORDS_CREATE)
def capa_transition(reference: str) -> FormPage:
    capa = _capa_or_404(reference)
    if not services.may_edit(_user(), capa):
        abort(403)  # only the owner and quality leads fire any CAPA transition
    form = TransitionForm()
    if not form.validate():
        return _render_detail(capa, 422, transition_form=form)
    try:
        services.transition_capa(capa, form.transition.data, _user(), form.reason.data)
    except services.NotAllowed:
        abort(403)
    except ServiceError as error:
        apply_service_error(form, error)
        return _render_detail(capa, 422, transition_form=form)
    if capa.status == CapaStatus.INEFFECTIVE:
        flash(f"{capa.reference} is ineffective: a follow-up action is required.", "warning")
    else:
        flash(f"{capa.reference} is now {capa.status.label.lower()}.", "success")
    return redirect(_detail_url(capa))


@blueprint.route("/capa/<reference>/trainings", methods=["POST"])
@requires(Permission.RECORDS_CREATE)
def training_assign(reference: str) -> FormPage:
    capa = _capa_or_404(reference)
    user = _user()
    if not services.may_edit(user, capa):
        abort(403)
    form = TrainingForm(prefix="training")
    form.set_choices(services.assignable_people())
    if form.validate():
        try:
            training = capa_training.assign_training(
                capa,
                staff_id=optional_id(form.staff_id.data),
                topic=form.topic.data,
                due_date=form.due_date.data,
                user=user,
            )
        except services.NotAllowed:
            abort(403)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            flash(f"Assigned “{training.topic}” to {training.staff.full_name}.", "success")
            return redirect(_detail_url(capa) + "#trainings")
    return _render_detail(capa, 422, training_form=form)


@blueprint.route("/capa/trainings/<int:training_id>/complete", methods=["POST"])
@requires(Permission.RECORDS_CREATE)
def training_complete(training_id: int) -> FormPage:
    training = db.get_or_404(TrainingAssignment, training_id)
    form = CompleteTrainingForm()
    to_my_work = form.return_to.data == "my_work"
    error_message = "The form expired; please try again."
    if form.validate():
        try:
            capa_training.complete_training(training, _user())
        except services.NotAllowed:
            abort(403)
        except ServiceError as error:
            apply_service_error(form, error)
            error_message = error.message
        else:
            flash(f"Training “{training.topic}” is completed.", "success")
            if to_my_work:
                return redirect(url_for("capa.my_work"))
            return redirect(_detail_url(training.capa) + "#trainings")
    if to_my_work:
        return _render_my_work(422, error=error_message)
    return _render_detail(_capa_or_404(training.capa.reference), 422, training_error=error_message)


@blueprint.route("/capa/<reference>/checks", methods=["POST"])
@requires(Permission.RECORDS_CREATE)
def check_plan(reference: str) -> FormPage:
    capa = _capa_or_404(reference)
    user = _user()
    if not services.may_edit(user, capa):
        abort(403)
    form = CheckPlanForm(prefix="check")
    if form.validate():
        try:
            capa_effectiveness.plan_effectiveness_check(
                capa,
                criterion=form.criterion.data or "",
                method=form.method.data,
                window_days=form.window_days.data,
                due_date=form.due_date.data,
                user=user,
            )
        except services.NotAllowed:
            abort(403)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            flash("Planned the effectiveness check.", "success")
            return redirect(_detail_url(capa) + "#checks")
    return _render_detail(capa, 422, check_form=form)


@blueprint.route("/capa/checks/<int:check_id>/result", methods=["POST"])
@requires(Permission.RECORDS_MANAGE)
def check_result(check_id: int) -> FormPage:
    check = db.get_or_404(EffectivenessCheck, check_id)
    form = CheckResultForm(prefix=f"result{check.id}")
    reference = check.capa.reference
    if form.validate():
        try:
            outcome = capa_effectiveness.record_check_result(
                check, result=form.result.data, evidence=form.evidence.data, user=_user()
            )
        except services.NotAllowed:
            abort(403)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            flash(outcome.message, "warning" if outcome.follow_up_required else "success")
            return redirect(_detail_url(check.capa) + "#checks")
    capa = _capa_or_404(reference)
    return _render_detail(capa, 422, result_forms={check_id: form})


@blueprint.route("/capa/checks/<int:check_id>/evaluate", methods=["POST"])
@requires(Permission.RECORDS_MANAGE)
def check_evaluate(check_id: int) -> FormPage:
    check = db.get_or_404(EffectivenessCheck, check_id)
    reference = check.capa.reference
    form = EvaluateForm()
    message = "The form expired; please try again."
    if form.validate():
        try:
            outcome = capa_effectiveness.run_automatic_check(check, _user())
        except services.NotAllowed:
            abort(403)
        except ServiceError as error:
            apply_service_error(form, error)
            message = error.message
        else:
            category = (
                "info"
                if not outcome.decided
                else "warning"
                if outcome.follow_up_required
                else "success"
            )
            flash(outcome.message, category)
            return redirect(_detail_url(check.capa) + "#checks")
    return _render_detail(_capa_or_404(reference), 422, check_errors={check_id: message})


def _sign(reference: str, prefix: str, sign: Any, done: str) -> FormPage:
    capa = _capa_or_404(reference)
    form = SignForm(prefix=prefix)
    if form.validate():
        try:
            sign(capa, _user(), form.password.data, form.meaning.data)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            flash(done.format(reference=capa.reference), "success")
            return redirect(_detail_url(capa))
    form.password.data = ""
    return _render_detail(_capa_or_404(reference), 422, **{f"{prefix}_form": form})


@blueprint.route("/capa/<reference>/verify-effectiveness", methods=["POST"])
@requires(Permission.RECORDS_SIGN)
def capa_verify_effectiveness(reference: str) -> FormPage:
    return _sign(
        reference,
        "effectiveness",
        services.verify_effectiveness,
        "Signed: {reference} is effective.",
    )


@blueprint.route("/capa/<reference>/close", methods=["POST"])
@requires(Permission.RECORDS_SIGN)
def capa_close(reference: str) -> FormPage:
    return _sign(reference, "closure", services.close_capa, "Signed: {reference} is closed.")


# --- my work -----------------------------------------------------------------------------------


def _render_my_work(status: int = 200, error: str | None = None) -> tuple[str, int]:
    user = _user()
    return render_template(
        "capa/my_work.html",
        work=capa_listing.my_work(user),
        # Read-and-understood training of controlled documents (employee recovery too).
        reading=document_reading.open_acknowledgements_of(user),
        user=user,
        is_overdue=services.is_overdue,
        error=error,
    ), status


@blueprint.route("/my-work")
@requires(Permission.RECORDS_VIEW)
def my_work() -> tuple[str, int]:
    return _render_my_work()
