"""Internal-audit pages: the programme, planning, the audit page with its checklist and findings,
standards and checklist templates. Views parse input, call one service and render."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.accounts.services import signatures_of
from app.audit.services import history_of
from app.audits import library as audit_library
from app.audits import services
from app.audits.forms import (
    AnswerForm,
    AuditForm,
    ChecklistForm,
    ClauseForm,
    ConclusionForm,
    ExceptionForm,
    FindingForm,
    ProgrammeForm,
    SignReportForm,
    StandardForm,
    TemplateForm,
    TransitionForm,
)
from app.audits.models import Audit, AuditQuestion, Finding, Standard
from app.audits.programme import MONTHS, programme_overview
from app.audits.workflow import AUDIT_WORKFLOW, unexcepted_conflicts
from app.core.db import utcnow
from app.core.errors import ServiceError, StaleRecord
from app.core.forms import apply_service_error, form_status, refuse_if_not_permitted, select_choices
from app.core.permissions import Permission, requires
from app.core.signatures import changed_after_signature
from app.extensions import db

blueprint = Blueprint("audits", __name__, template_folder="templates")

FormPage = str | Response | tuple[str, int]


def _audit_or_404(reference: str) -> Audit:
    audit = services.get_by_reference(reference)
    if audit is None:
        abort(404)
    return audit


def _require_plan() -> None:
    if not services.may_plan(current_user):
        abort(403)


def _require_record(audit: Audit) -> None:
    if not services.may_record(current_user, audit):
        abort(403)


def _ids(values: list[str] | None) -> list[int]:
    return [int(value) for value in values or [] if str(value).isdigit()]


# --- the programme -----------------------------------------------------------------------------


@blueprint.route("/audits")
@requires(Permission.RECORDS_VIEW)
def programme() -> tuple[str, int]:
    year_arg = request.args.get("year", "")
    year = int(year_arg) if year_arg.isdigit() else utcnow().year
    chosen = services.get_programme(year)
    if chosen is None and year_arg:
        abort(404)
    overview = programme_overview(chosen) if chosen is not None else None
    return render_template(
        "audits/programme.html",
        year=year,
        programme=chosen,
        overview=overview,
        programmes=services.programmes(),
        months=MONTHS,
        may_plan=services.may_plan(current_user),
    ), 200


@blueprint.route("/audits/programmes/new", methods=["GET", "POST"])
@requires(Permission.RECORDS_VIEW)
def programme_new() -> FormPage:
    _require_plan()
    form = ProgrammeForm()
    if request.method == "GET":
        form.year.data = utcnow().year
    if form.validate_on_submit():
        try:
            created = services.create_programme(
                form.year.data,
                form.title.data,
                form.objectives.data,
                form.interval_months.data,
                user=current_user,
            )
        except ServiceError as error:
            refuse_if_not_permitted(error)
            apply_service_error(form, error)
        else:
            flash(f"Created the {created.title}.", "success")
            return redirect(url_for(".programme", year=created.year))
    return render_template("audits/programme_form.html", form=form), form_status(form)


# --- planning ----------------------------------------------------------------------------------


def _audit_form(audit: Audit | None) -> AuditForm:
    form = AuditForm()
    named = [audit.lead_auditor_id, *(member.id for member in audit.team)] if audit else []
    form.set_choices(
        services.selectable_auditors(named),
        services.selectable_processes(),
        services.selectable_sites(),
        services.all_clauses(),
    )
    return form


def _plan_values(form: AuditForm) -> dict[str, Any]:
    return {
        "title": form.title.data,
        "planned_start": form.planned_start.data,
        "planned_end": form.planned_end.data,
        "lead_auditor_id": form.lead_auditor_id.data,
        "team_ids": _ids(form.team_ids.data),
        "process_ids": _ids(form.process_ids.data),
        "site_ids": _ids(form.site_ids.data),
        "clause_ids": _ids(form.clause_ids.data),
        "scope": form.scope.data,
        "criteria": form.criteria.data,
        "independence_justification": form.independence_justification.data,
    }


@blueprint.route("/audits/new", methods=["GET", "POST"])
@requires(Permission.RECORDS_VIEW)
def audit_new() -> FormPage:
    _require_plan()
    year_arg = request.args.get("year", "")
    year = int(year_arg) if year_arg.isdigit() else utcnow().year
    chosen = services.get_programme(year)
    if chosen is None:
        if year_arg:
            abort(404)
        flash(f"Create the audit programme for {year} first.", "warning")
        return redirect(url_for(".programme_new"))
    form = _audit_form(None)
    if form.validate_on_submit():
        try:
            audit = services.plan_audit(chosen, user=current_user, **_plan_values(form))
        except ServiceError as error:
            refuse_if_not_permitted(error)
            apply_service_error(form, error)
        else:
            flash(f"Planned the audit {audit.reference}.", "success")
            return redirect(url_for(".audit_detail", reference=audit.reference))
    return render_template(
        "audits/audit_form.html", form=form, audit=None, programme=chosen
    ), form_status(form)


@blueprint.route("/audits/<reference>/edit", methods=["GET", "POST"])
@requires(Permission.RECORDS_VIEW)
def audit_edit(reference: str) -> FormPage:
    audit = _audit_or_404(reference)
    _require_plan()
    form = _audit_form(audit)
    if request.method == "GET":
        form.title.data = audit.title
        form.planned_start.data = audit.planned_start
        form.planned_end.data = audit.planned_end
        form.lead_auditor_id.data = str(audit.lead_auditor_id)
        form.team_ids.data = [str(member.id) for member in audit.team]
        form.process_ids.data = [str(item.id) for item in audit.processes]
        form.site_ids.data = [str(item.id) for item in audit.sites]
        form.clause_ids.data = [str(item.id) for item in audit.clauses]
        form.scope.data = audit.scope
        form.criteria.data = audit.criteria
        form.version.data = str(audit.version)
    stale = False
    if form.validate_on_submit():
        try:
            services.update_audit(
                audit,
                expected_version=form.version.data or "",
                user=current_user,
                **_plan_values(form),
            )
        except ServiceError as error:
            refuse_if_not_permitted(error)
            stale = isinstance(error, StaleRecord)
            apply_service_error(form, error)
        else:
            flash(f"Saved the plan of {audit.reference}.", "success")
            return redirect(url_for(".audit_detail", reference=audit.reference))
    return render_template(
        "audits/audit_form.html", form=form, audit=audit, programme=audit.programme, stale=stale
    ), form_status(form)


# --- the audit page and its actions ------------------------------------------------------------


def _render_detail(audit: Audit, status: int = 200, **forms: Any) -> tuple[str, int]:
    signatures = [
        (sig, not sig.is_void and changed_after_signature(sig, audit))
        for sig in signatures_of(audit)
    ]
    checklist_form = forms.get("checklist_form") or ChecklistForm(formdata=None)
    checklist_form.template_id.choices = select_choices(
        [("", "— choose —")]
        + [(str(t.id), t.name) for t in services.templates(active_only=True) if t.questions]
    )
    finding_form = forms.get("finding_form") or FindingForm(formdata=None)
    finding_form.set_choices(audit)
    conclusion_form = forms.get("conclusion_form") or ConclusionForm(
        formdata=None, conclusion=audit.conclusion
    )
    conclusion_form.version.data = str(audit.version)
    return render_template(
        "audits/detail.html",
        audit=audit,
        today=utcnow().date(),
        may_plan=services.may_plan(current_user),
        may_record=services.may_record(current_user, audit),
        read_only=services.is_read_only(audit),
        conflicts=unexcepted_conflicts(audit),
        transitions=AUDIT_WORKFLOW.available(audit, current_user)
        if current_user.role != "auditor"
        else [],
        transition_form=forms.get("transition_form") or TransitionForm(formdata=None),
        failed_transition=forms.get("failed_transition"),
        exception_form=forms.get("exception_form") or ExceptionForm(formdata=None),
        checklist_form=checklist_form,
        answer_forms=forms.get("answer_forms", {}),
        finding_form=finding_form,
        conclusion_form=conclusion_form,
        sign_form=forms.get("sign_form") or SignReportForm(formdata=None),
        finding_error=forms.get("finding_error"),
        stale=forms.get("stale", False),
        signatures=signatures,
        report_signers=services.report_signers(audit),
        history=history_of(audit),
    ), status


@blueprint.route("/audits/<reference>")
@requires(Permission.RECORDS_VIEW)
def audit_detail(reference: str) -> tuple[str, int]:
    return _render_detail(_audit_or_404(reference))


@blueprint.route("/audits/<reference>/transition", methods=["POST"])
@requires(Permission.RECORDS_VIEW)
def audit_transition(reference: str) -> Response | tuple[str, int]:
    audit = _audit_or_404(reference)
    _require_record(audit)
    form = TransitionForm()
    stale = False
    if form.validate_on_submit():
        try:
            services.transition_audit(
                audit,
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
            flash(f"{audit.reference} is now {audit.status.label.lower()}.", "success")
            return redirect(url_for(".audit_detail", reference=audit.reference))
    return _render_detail(
        audit,
        422,
        transition_form=form,
        failed_transition=form.transition.data or None,
        stale=stale,
    )


@blueprint.route("/audits/<reference>/independence-exception", methods=["POST"])
@requires(Permission.RECORDS_VIEW)
def audit_exception(reference: str) -> Response | tuple[str, int]:
    audit = _audit_or_404(reference)
    _require_plan()
    form = ExceptionForm()
    if form.validate_on_submit():
        try:
            services.record_independence_exception(
                audit, form.justification.data, user=current_user
            )
        except ServiceError as error:
            refuse_if_not_permitted(error)
            apply_service_error(form, error)
        else:
            flash("Recorded the justified exception to auditor independence.", "success")
            return redirect(url_for(".audit_detail", reference=audit.reference))
    return _render_detail(audit, 422, exception_form=form)


@blueprint.route("/audits/<reference>/checklists", methods=["POST"])
@requires(Permission.RECORDS_VIEW)
def checklist_add(reference: str) -> Response | tuple[str, int]:
    audit = _audit_or_404(reference)
    _require_record(audit)
    form = ChecklistForm()
    form.template_id.choices = select_choices(
        [("", "— choose —")] + [(str(t.id), t.name) for t in services.templates()]
    )
    if form.validate_on_submit():
        try:
            added = services.add_checklist(audit, form.template_id.data, user=current_user)
        except ServiceError as error:
            refuse_if_not_permitted(error)
            apply_service_error(form, error)
        else:
            flash(f"Added {len(added)} checklist questions.", "success")
            return redirect(url_for(".audit_detail", reference=audit.reference))
    return _render_detail(audit, 422, checklist_form=form)


@blueprint.route("/audits/<reference>/questions/<int:question_id>", methods=["POST"])
@requires(Permission.RECORDS_VIEW)
def question_answer(reference: str, question_id: int) -> Response | tuple[str, int]:
    audit = _audit_or_404(reference)
    question = db.session.get(AuditQuestion, question_id)
    if question is None or question.audit_id != audit.id:
        abort(404)
    _require_record(audit)
    form = AnswerForm()
    stale = False
    if form.validate_on_submit():
        try:
            services.answer_question(
                question,
                form.answer.data,
                form.evidence.data,
                expected_version=form.version.data or "",
                user=current_user,
            )
        except ServiceError as error:
            refuse_if_not_permitted(error)
            stale = isinstance(error, StaleRecord)
            apply_service_error(form, error)
        else:
            flash(f"Recorded the answer to question {question.position}.", "success")
            return redirect(
                url_for(".audit_detail", reference=audit.reference, _anchor=f"q{question.id}")
            )
    return _render_detail(audit, 422, answer_forms={question_id: form}, stale=stale)


@blueprint.route("/audits/<reference>/findings", methods=["POST"])
@requires(Permission.RECORDS_VIEW)
def finding_add(reference: str) -> Response | tuple[str, int]:
    audit = _audit_or_404(reference)
    _require_record(audit)
    form = FindingForm()
    form.set_choices(audit)
    if form.validate_on_submit():
        try:
            finding = services.record_finding(
                audit,
                kind=form.kind.data,
                description=form.description.data,
                evidence=form.evidence.data,
                process_id=form.process_id.data or None,
                question_id=form.question_id.data or None,
                user=current_user,
            )
        except ServiceError as error:
            refuse_if_not_permitted(error)
            apply_service_error(form, error)
        else:
            flash(f"Recorded the finding {finding.reference}.", "success")
            return redirect(url_for(".audit_detail", reference=audit.reference))
    return _render_detail(audit, 422, finding_form=form)


def _finding_or_404(audit: Audit, number: int) -> Finding:
    finding = next((item for item in audit.findings if item.number == number), None)
    if finding is None:
        abort(404)
    return finding


@blueprint.route("/audits/<reference>/findings/<int:number>/nonconformity", methods=["POST"])
@requires(Permission.RECORDS_VIEW)
def finding_raise_nonconformity(reference: str, number: int) -> Response | tuple[str, int]:
    audit = _audit_or_404(reference)
    finding = _finding_or_404(audit, number)
    _require_record(audit)
    try:
        nc = services.raise_finding_nonconformity(finding, user=current_user)
    except ServiceError as error:
        refuse_if_not_permitted(error)
        db.session.rollback()
        return _render_detail(audit, 422, finding_error=(number, error.message))
    flash(
        f"Raised the nonconformity {nc.reference} from {finding.reference}; review its "
        "ratings, owner and containment.",
        "success",
    )
    return redirect(url_for("nonconformities.nonconformity_detail", reference=nc.reference))


@blueprint.route("/audits/<reference>/conclusion", methods=["POST"])
@requires(Permission.RECORDS_VIEW)
def conclusion_save(reference: str) -> Response | tuple[str, int]:
    audit = _audit_or_404(reference)
    _require_record(audit)
    form = ConclusionForm()
    stale = False
    if form.validate_on_submit():
        try:
            services.set_conclusion(
                audit,
                form.conclusion.data,
                expected_version=form.version.data or "",
                user=current_user,
            )
        except ServiceError as error:
            refuse_if_not_permitted(error)
            stale = isinstance(error, StaleRecord)
            apply_service_error(form, error)
        else:
            flash("Saved the conclusion.", "success")
            return redirect(url_for(".audit_detail", reference=audit.reference))
    return _render_detail(audit, 422, conclusion_form=form, stale=stale)


# --- standards and checklist templates ---------------------------------------------------------


def _render_library(status: int = 200, **forms: Any) -> tuple[str, int]:
    all_standards = services.standards()
    template_form = forms.get("template_form") or TemplateForm(formdata=None)
    template_form.standard_id.choices = select_choices([(str(s.id), s.code) for s in all_standards])
    return render_template(
        "audits/library.html",
        standards=all_standards,
        templates=services.templates(),
        may_plan=services.may_plan(current_user),
        standard_form=forms.get("standard_form") or StandardForm(formdata=None),
        clause_forms=forms.get("clause_forms", {}),
        template_form=template_form,
    ), status


@blueprint.route("/audits/library")
@requires(Permission.RECORDS_VIEW)
def library() -> tuple[str, int]:
    return _render_library()


@blueprint.route("/audits/library/standards", methods=["POST"])
@requires(Permission.RECORDS_VIEW)
def standard_new() -> Response | tuple[str, int]:
    _require_plan()
    form = StandardForm()
    if form.validate_on_submit():
        try:
            standard = audit_library.create_standard(
                form.code.data, form.title.data, user=current_user
            )
        except ServiceError as error:
            refuse_if_not_permitted(error)
            apply_service_error(form, error)
        else:
            flash(f"Added the standard {standard.code}.", "success")
            return redirect(url_for(".library"))
    return _render_library(422, standard_form=form)


@blueprint.route("/audits/library/standards/<int:standard_id>/clauses", methods=["POST"])
@requires(Permission.RECORDS_VIEW)
def clause_add(standard_id: int) -> Response | tuple[str, int]:
    standard = db.get_or_404(Standard, standard_id)
    _require_plan()
    form = ClauseForm()
    if form.validate_on_submit():
        try:
            clause = audit_library.add_clause(
                standard, form.number.data, form.title.data, user=current_user
            )
        except ServiceError as error:
            refuse_if_not_permitted(error)
            apply_service_error(form, error)
        else:
            flash(f"Added clause {clause.label} to {standard.code}.", "success")
            return redirect(url_for(".library"))
    return _render_library(422, clause_forms={standard_id: form})


@blueprint.route("/audits/library/checklists", methods=["POST"])
@requires(Permission.RECORDS_VIEW)
def template_new() -> Response | tuple[str, int]:
    _require_plan()
    form = TemplateForm()
    form.standard_id.choices = select_choices([(str(s.id), s.code) for s in services.standards()])
    if form.validate_on_submit():
        try:
            template = audit_library.create_template_from_lines(
                form.name.data,
                form.description.data,
                form.standard_id.data,
                form.questions.data,
                user=current_user,
            )
        except ServiceError as error:
            refuse_if_not_permitted(error)
            apply_service_error(form, error)
        else:
            flash(
                f"Added the checklist {template.name} ({len(template.questions)} questions).",
                "success",
            )
            return redirect(url_for(".library"))
    return _render_library(422, template_form=form)


@blueprint.route("/audits/<reference>/sign", methods=["POST"])
@requires(Permission.RECORDS_VIEW)
def audit_sign(reference: str) -> Response | tuple[str, int]:
    audit = _audit_or_404(reference)
    if current_user.role == "auditor" or not (
        current_user.id == audit.lead_auditor_id or services.may_plan(current_user)
    ):
        abort(403)
    form = SignReportForm()
    if form.validate_on_submit():
        try:
            signature = services.sign_report(
                audit, current_user, form.password.data, form.meaning.data
            )
        except ServiceError as error:
            refuse_if_not_permitted(error)
            apply_service_error(form, error)
        else:
            flash(
                f"Signed the report of {audit.reference}: {signature.manifestation()}.", "success"
            )
            return redirect(url_for(".audit_detail", reference=audit.reference))
    form.password.data = ""
    return _render_detail(audit, 422, sign_form=form)
