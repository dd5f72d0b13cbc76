"""The strategy workspace's pages: the four activities of the method (assessment, operating
model, metrics, strategy map) and the strategy map's PDF. Views parse input, call one service and
render; the request commits once at the end."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.audit.services import history_of
from app.core.db import utcnow
from app.core.errors import ServiceError
from app.core.forms import apply_service_error, form_status
from app.core.permissions import Permission, requires
from app.extensions import db
from app.metrics import catalogue, measured
from app.metrics.models import Initiative, MetricGoal, Objective
from app.metrics.objectives import GoalStatus, measure_goal
from app.metrics.units import MetricCategory
from app.organisation import services as organisation
from app.strategy import assessment, operating_model, strategy_map
from app.strategy.forms import (
    AssessmentEntryForm,
    AssessmentFilterForm,
    AssessmentRevisionForm,
    CapabilityForm,
    DepartmentForm,
    LinkCapaForm,
    MeasuredMetricForm,
    MetricImportForm,
    MetricValueForm,
    StakeholderForm,
)
from app.strategy.models import AssessmentEntry, Department, FactorKind

blueprint = Blueprint("strategy", __name__, template_folder="templates", url_prefix="/strategy")

FormPage = str | Response | tuple[str, int]


def _objectives_and_initiatives() -> tuple[list[Objective], list[Initiative]]:
    objectives = list(db.session.scalars(select(Objective).order_by(Objective.id)))
    initiatives = list(db.session.scalars(select(Initiative).order_by(Initiative.id)))
    return objectives, initiatives


# --- the workspace ------------------------------------------------------------------------------


@blueprint.route("")
@requires(Permission.DASHBOARD_VIEW)
def workspace() -> str:
    factors = assessment.assessment_as_of()
    model = operating_model.operating_model()
    return render_template(
        "strategy/workspace.html",
        factor_count=sum(len(items) for items in factors.values()),
        model=model,
        metrics=catalogue.all_kpis(),
        lines=len(db.session.scalars(select(Objective.id)).all()),
    )


# --- assessment ---------------------------------------------------------------------------------


@blueprint.route("/assessment")
@requires(Permission.DASHBOARD_VIEW)
def assessment_list() -> tuple[str, int]:
    form = AssessmentFilterForm(request.args)
    form.site_id.choices = [("", "Organisation and every site")] + [
        (str(site.id), site.name) for site in organisation.list_sites()
    ]
    valid = form.validate()
    as_of = form.as_of.data if valid and form.as_of.data else utcnow().date()
    site_id = int(form.site_id.data) if valid and form.site_id.data else None
    if valid and as_of > utcnow().date():
        form.as_of.errors = ["Choose a day up to today: the assessment records what was believed."]
        valid, as_of = False, utcnow().date()
    return render_template(
        "strategy/assessment_list.html",
        form=form,
        factors=assessment.assessment_as_of(as_of, site_id),
        as_of=as_of,
        kinds=list(FactorKind),
    ), (200 if valid else 422)


def _entry_form(form: AssessmentEntryForm | AssessmentRevisionForm) -> None:
    form.set_choices(*_objectives_and_initiatives())


@blueprint.route("/assessment/new", methods=["GET", "POST"])
@requires(Permission.RECORDS_MANAGE)
def assessment_new() -> FormPage:
    form = AssessmentEntryForm()
    _entry_form(form)
    form.set_sites(organisation.list_sites())
    if form.validate_on_submit():
        try:
            entry = assessment.record_entry(
                kind=form.kind.data,
                title=form.title.data,
                statement=form.statement.data,
                impact=form.impact.data,
                assessed_on=form.assessed_on.data,
                site_id=form.site_id.data or None,
                objective_ids=form.objective_ids.data or [],
                initiative_ids=form.initiative_ids.data or [],
                user=current_user,  # type: ignore[arg-type]
            )
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            flash(f"Recorded the factor {entry.title}.", "success")
            return redirect(url_for("strategy.assessment_detail", entry_id=entry.id))
    return render_template("strategy/assessment_form.html", form=form, entry=None), form_status(
        form
    )


@blueprint.route("/assessment/<int:entry_id>")
@requires(Permission.DASHBOARD_VIEW)
def assessment_detail(entry_id: int) -> str:
    entry = db.get_or_404(AssessmentEntry, entry_id)
    # The entry's history includes its revisions' events: together they are what was believed.
    events = [*history_of(entry), *(e for r in entry.revisions for e in history_of(r))]
    return render_template(
        "strategy/assessment_detail.html",
        entry=entry,
        history=sorted(events, key=lambda event: event.id),
    )


@blueprint.route("/assessment/<int:entry_id>/revise", methods=["GET", "POST"])
@requires(Permission.RECORDS_MANAGE)
def assessment_revise(entry_id: int) -> FormPage:
    entry = db.get_or_404(AssessmentEntry, entry_id)
    latest = entry.revisions[-1]
    form = AssessmentRevisionForm()
    _entry_form(form)
    if request.method == "GET":
        form.statement.data = latest.statement
        form.impact.data = latest.impact.value
        form.objective_ids.data = [str(o.id) for o in latest.objectives]
        form.initiative_ids.data = [str(i.id) for i in latest.initiatives]
        form.version.data = str(entry.version)
    if form.validate_on_submit():
        try:
            revision = assessment.revise_entry(
                entry,
                expected_version=form.version.data,
                statement=form.statement.data,
                impact=form.impact.data,
                assessed_on=form.assessed_on.data,
                objective_ids=form.objective_ids.data or [],
                initiative_ids=form.initiative_ids.data or [],
                user=current_user,  # type: ignore[arg-type]
            )
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            flash(f"Recorded revision {revision.number} of {entry.title}.", "success")
            return redirect(url_for("strategy.assessment_detail", entry_id=entry.id))
    return render_template("strategy/assessment_form.html", form=form, entry=entry), form_status(
        form
    )


# --- operating model ----------------------------------------------------------------------------


@blueprint.route("/operating-model")
@requires(Permission.DASHBOARD_VIEW)
def operating_model_page() -> str:
    model = operating_model.operating_model()
    return render_template("strategy/operating_model.html", model=model, svg=model.diagram_svg())


def _department_form(form: DepartmentForm, head_id: int | None = None) -> None:
    form.set_choices(
        organisation.assignable_owners(head_id),
        organisation.list_processes(),
        _objectives_and_initiatives()[1],
    )


def _department_values(form: DepartmentForm) -> dict[str, Any]:
    return {
        "name": form.name.data,
        "description": form.description.data or "",
        "head_id": form.head_id.data or None,
        "process_ids": form.process_ids.data or [],
        "initiative_ids": form.initiative_ids.data or [],
        "recoveries": form.recoveries.data or [],
    }


@blueprint.route("/departments/new", methods=["GET", "POST"])
@requires(Permission.RECORDS_MANAGE)
def department_new() -> FormPage:
    form = DepartmentForm()
    _department_form(form)
    if form.validate_on_submit():
        try:
            department = operating_model.create_department(**_department_values(form))
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            flash(f"Added the department {department.name}.", "success")
            return redirect(url_for("strategy.operating_model_page"))
    return render_template(
        "strategy/department_form.html", form=form, department=None, history=[]
    ), form_status(form)


@blueprint.route("/departments/<int:department_id>/edit", methods=["GET", "POST"])
@requires(Permission.RECORDS_MANAGE)
def department_edit(department_id: int) -> FormPage:
    department = db.get_or_404(Department, department_id)
    form = DepartmentForm(obj=department if request.method == "GET" else None)
    _department_form(form, department.head_id)
    if request.method == "GET":
        form.head_id.data = str(department.head_id or "")
        form.process_ids.data = [str(p.id) for p in department.processes]
        form.initiative_ids.data = [str(i.id) for i in department.initiatives]
        form.recoveries.data = [r.value for r in department.recovery_kinds]
        form.version.data = str(department.version)
    if form.validate_on_submit():
        try:
            operating_model.update_department(
                department, expected_version=form.version.data, **_department_values(form)
            )
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            flash(f"Saved the department {department.name}.", "success")
            return redirect(url_for("strategy.operating_model_page"))
    return render_template(
        "strategy/department_form.html",
        form=form,
        department=department,
        history=history_of(department),
    ), form_status(form)


@blueprint.route("/capabilities/new", methods=["GET", "POST"])
@requires(Permission.RECORDS_MANAGE)
def capability_new() -> FormPage:
    form = CapabilityForm()
    form.set_choices(operating_model.list_departments())
    if form.validate_on_submit():
        try:
            capability = operating_model.create_capability(
                name=form.name.data,
                description=form.description.data or "",
                department_id=form.department_id.data or None,
            )
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            flash(f"Added the capability {capability.name}.", "success")
            return redirect(url_for("strategy.operating_model_page"))
    return render_template(
        "strategy/simple_form.html", form=form, heading="New capability"
    ), form_status(form)


@blueprint.route("/stakeholders/new", methods=["GET", "POST"])
@requires(Permission.RECORDS_MANAGE)
def stakeholder_new() -> FormPage:
    form = StakeholderForm()
    form.set_choices(operating_model.list_departments())
    if form.validate_on_submit():
        try:
            stakeholder = operating_model.create_stakeholder(
                name=form.name.data,
                kind=form.kind.data,
                interest=form.interest.data or "",
                department_id=form.department_id.data or None,
            )
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            flash(f"Added the stakeholder {stakeholder.name}.", "success")
            return redirect(url_for("strategy.operating_model_page"))
    return render_template(
        "strategy/simple_form.html", form=form, heading="New stakeholder"
    ), form_status(form)


# --- metrics ------------------------------------------------------------------------------------


@blueprint.route("/metrics")
@requires(Permission.DASHBOARD_VIEW)
def metric_list() -> str:
    kpis = catalogue.all_kpis()
    by_category = {
        category: [kpi for kpi in kpis if kpi.category is category] for category in MetricCategory
    }
    return render_template("strategy/metric_list.html", by_category=by_category)


@blueprint.route("/metrics/new", methods=["GET", "POST"])
@requires(Permission.RECORDS_MANAGE)
def metric_new() -> FormPage:
    form = MeasuredMetricForm()
    if form.validate_on_submit():
        try:
            metric = measured.create_metric(
                key=form.key.data,
                label=form.label.data,
                category=form.category.data,
                unit=form.unit.data,
                better=form.better.data,
                description=form.description.data or "",
            )
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            flash(f"Added the measured metric {metric.label}.", "success")
            return redirect(url_for("strategy.metric_detail", key=metric.key))
    return render_template(
        "strategy/simple_form.html", form=form, heading="New measured metric"
    ), form_status(form)


def _metric_page(
    metric: Any,
    value_form: MetricValueForm | None = None,
    import_form: MetricImportForm | None = None,
    status: int = 200,
) -> tuple[str, int]:
    goals = db.session.scalars(
        select(MetricGoal).where(MetricGoal.kpi == metric.key).order_by(MetricGoal.id)
    ).all()
    return render_template(
        "strategy/metric_detail.html",
        metric=metric,
        goals=[measure_goal(goal) for goal in goals],
        values=measured.recent_values(metric, 24),
        value_form=value_form or MetricValueForm(formdata=None),
        import_form=import_form or MetricImportForm(formdata=None),
        show=measured.show_number,
        history=history_of(metric),
    ), status


@blueprint.route("/metrics/<key>")
@requires(Permission.DASHBOARD_VIEW)
def metric_detail(key: str) -> tuple[str, int]:
    metric = measured.metric_by_key(key)
    if metric is None:
        abort(404)
    return _metric_page(metric)


@blueprint.route("/metrics/<key>/values", methods=["POST"])
@requires(Permission.RECORDS_MANAGE)
def metric_value_new(key: str) -> Response | tuple[str, int]:
    metric = measured.metric_by_key(key)
    if metric is None:
        abort(404)
    form = MetricValueForm()
    if form.validate_on_submit():
        try:
            value, created = measured.record_value(
                metric, period=form.period.data, value=form.value.data, source="form"
            )
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            if created:
                flash(f"Recorded {measured.period_label(value.period_start)}.", "success")
                return redirect(url_for("strategy.metric_detail", key=key))
            db.session.rollback()
            form.period.errors = [
                f"{measured.period_label(value.period_start)} exists already with this value; "
                "nothing changed."
            ]
    return _metric_page(metric, value_form=form, status=422)


@blueprint.route("/metrics/<key>/import", methods=["POST"])
@requires(Permission.RECORDS_MANAGE)
def metric_import(key: str) -> Response | tuple[str, int]:
    metric = measured.metric_by_key(key)
    if metric is None:
        abort(404)
    form = MetricImportForm()
    upload = request.files.get("file")
    if form.validate_on_submit():
        if upload is None or not upload.filename:
            form.file.errors = ["Choose a CSV or XLSX file."]
        else:
            try:
                summary = measured.import_values(metric, upload.filename, upload.read())
            except ServiceError as error:
                db.session.rollback()
                form.file.errors = [error.message]
            else:
                flash(
                    f"Imported {summary.created} month(s); {summary.unchanged} already had "
                    "the same value.",
                    "success",
                )
                return redirect(url_for("strategy.metric_detail", key=key))
    return _metric_page(metric, import_form=form, status=422)


# --- strategy map -------------------------------------------------------------------------------


@blueprint.route("/map")
@requires(Permission.DASHBOARD_VIEW)
def map_page() -> str:
    return render_template(
        "strategy/map.html", lines=strategy_map.strategy_map(), link_form=LinkCapaForm()
    )


@blueprint.route("/initiatives/<int:initiative_id>/capas", methods=["POST"])
@requires(Permission.RECORDS_MANAGE)
def initiative_link_capa(initiative_id: int) -> Response:
    initiative = db.get_or_404(Initiative, initiative_id)
    form = LinkCapaForm()
    if not form.validate_on_submit():
        flash("Give the reference of the CAPA that serves this initiative.", "error")
    else:
        try:
            capa = strategy_map.link_capa(initiative, form.reference.data)
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            flash(f"{capa.reference} now serves {initiative.title}.", "success")
    return redirect(url_for("strategy.map_page") + f"#initiative-{initiative.id}")


@blueprint.route("/map.pdf")
@requires(Permission.RECORDS_EXPORT)
def map_pdf() -> Response:
    from reports.generate import generate_report
    from reports.strategy_map import gather_strategy_map

    user = current_user
    generated = generate_report(
        db.session,
        gather_strategy_map(),
        generated_by=f"{user.full_name} ({user.email}, {user.role.label})",
        organisation=current_app.config["ORG_NAME"],
    )
    response = Response(generated.pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{generated.filename}"'
    response.headers["X-Report-Id"] = generated.report_id
    return response


_STATUS_CLASSES = {
    GoalStatus.ON_TRACK: "text-bg-success",
    GoalStatus.AT_RISK: "text-bg-warning",
    GoalStatus.OFF_TRACK: "text-bg-danger",
    GoalStatus.NO_DATA: "text-bg-secondary",
}


@blueprint.context_processor
def _template_helpers() -> dict[str, object]:
    return {"kpi_label": catalogue.label_of, "status_class": _STATUS_CLASSES.get}
