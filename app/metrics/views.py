"""The dashboard, objectives, the financial case and principle coverage. Views parse input, call a
service and render; the figures come from app.metrics.kpis / services / objectives / recovery."""

from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from app.audit.services import history_of
from app.core.db import continue_read_only, utcnow
from app.core.errors import ServiceError
from app.core.forms import apply_service_error
from app.core.listing import csv_response
from app.core.permissions import Permission, requires
from app.extensions import db
from app.metrics import catalogue, objectives, recovery, services
from app.metrics.forms import (
    AssumptionsForm,
    DashboardFilterForm,
    GoalForm,
    InitiativeForm,
    ObjectiveForm,
)
from app.metrics.kpis import Scope
from app.metrics.models import Initiative, MetricGoal, Objective
from app.organisation import services as organisation
from app.organisation.models import Process

blueprint = Blueprint("metrics", __name__, template_folder="templates")

FormPage = str | Response | tuple[str, int]
FILTER_FIELDS = ("period", "date_from", "date_to", "site_id", "process_id", "channel")


def _status(form: FlaskForm) -> int:
    return 422 if form.is_submitted() else 200


# --- dashboard -----------------------------------------------------------------------------------


def _dashboard_form() -> tuple[DashboardFilterForm, Scope, bool]:
    """The filter form, the scope it selects (the defaults when the input is invalid) and
    whether the input was valid."""
    form = DashboardFilterForm(request.args)
    form.set_choices(organisation.list_sites(), organisation.list_processes())
    valid = not request.args or form.validate()
    if not valid:
        return form, Scope.last_days(int(form.period.default)), False
    filters = {
        "site_id": form.id_of(form.site_id),
        "process_id": form.id_of(form.process_id),
        "channel": form.channel.data or None,
    }
    chosen = form.date_range()
    if chosen is None:
        return form, Scope.last_days(form.days(), **filters), True
    return form, services.scope_of_range(*chosen, **filters), True


def _process_name(scope: Scope) -> str:
    if scope.process_id is None:
        return "all processes"
    process = db.session.get(Process, scope.process_id)
    return process.name if process else "all processes"


@blueprint.route("/")
@requires(Permission.DASHBOARD_VIEW)
def dashboard() -> tuple[str, int]:
    form, scope, valid = _dashboard_form()
    continue_read_only(db.session)  # a cold dashboard reads for seconds at scale
    board = services.dashboard(scope, _process_name(scope))
    goals = [
        objectives.measure_goal(goal)
        for objective in objectives.list_objectives()
        for initiative in objective.initiatives
        for goal in initiative.goals
    ]
    return render_template(
        "metrics/dashboard.html",
        form=form,
        board=board,
        goals=goals,
        period_label=services.period_label,
        args={key: request.args[key] for key in FILTER_FIELDS if request.args.get(key)}
        if valid
        else {},
    ), (200 if valid else 422)


@blueprint.route("/dashboard/<chart>.csv")
@requires(Permission.DASHBOARD_VIEW)
def dashboard_export(chart: str) -> Response | tuple[str, int]:
    _form, scope, valid = _dashboard_form()
    continue_read_only(db.session)
    if not valid:
        return dashboard()
    board = services.dashboard(scope, _process_name(scope))
    stamp = f"{utcnow():%Y%m%d-%H%M}"
    if chart == "kpis":
        header = ("kpi", "label", "unit", "this_period", "previous_period", "change")
        return csv_response(f"kpis-{stamp}.csv", header, services.tile_rows(board), list)
    found = next((item for item in board.charts if item.key == chart), None)
    if found is None:
        abort(404)
    return csv_response(f"{chart}-{stamp}.csv", found.columns, found.rows, list)


# --- objectives ----------------------------------------------------------------------------------


@blueprint.route("/objectives")
@requires(Permission.DASHBOARD_VIEW)
def objective_list() -> str:
    items = objectives.list_objectives()
    progress = {
        goal.id: objectives.measure_goal(goal)
        for objective in items
        for initiative in objective.initiatives
        for goal in initiative.goals
    }
    return render_template("metrics/objective_list.html", objectives=items, progress=progress)


def _objective_form(form: ObjectiveForm) -> None:
    form.set_choices(organisation.assignable_owners(), organisation.list_principles())


@blueprint.route("/objectives/new", methods=["GET", "POST"])
@requires(Permission.RECORDS_MANAGE)
def objective_new() -> FormPage:
    form = ObjectiveForm()
    _objective_form(form)
    if request.method == "GET":
        form.owner_id.data = str(current_user.id)
    if form.validate_on_submit():
        try:
            objective = objectives.create_objective(
                title=form.title.data,
                description=form.description.data or "",
                owner_id=form.owner_id.data,
                principle_ids=form.principle_ids.data or [],
            )
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            flash(f"Added the objective {objective.title}.", "success")
            return redirect(url_for("metrics.objective_detail", objective_id=objective.id))
    return render_template(
        "metrics/objective_form.html", form=form, objective=None, initiative=None
    ), _status(form)


@blueprint.route("/objectives/<int:objective_id>")
@requires(Permission.DASHBOARD_VIEW)
def objective_detail(objective_id: int) -> str:
    objective = db.get_or_404(Objective, objective_id)
    progress = {
        goal.id: objectives.measure_goal(goal)
        for initiative in objective.initiatives
        for goal in initiative.goals
    }
    return render_template(
        "metrics/objective_detail.html",
        objective=objective,
        progress=progress,
        history=history_of(objective),
        kpis=services.KPIS,
    )


@blueprint.route("/objectives/<int:objective_id>/initiatives/new", methods=["GET", "POST"])
@requires(Permission.RECORDS_MANAGE)
def initiative_new(objective_id: int) -> FormPage:
    objective = db.get_or_404(Objective, objective_id)
    form = InitiativeForm()
    _objective_form(form)
    if request.method == "GET":
        form.owner_id.data = str(current_user.id)
    if form.validate_on_submit():
        try:
            initiative = objectives.create_initiative(
                objective,
                title=form.title.data,
                description=form.description.data or "",
                owner_id=form.owner_id.data,
                principle_ids=form.principle_ids.data or [],
                start_date=form.start_date.data,
                end_date=form.end_date.data,
            )
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            flash(f"Added the initiative {initiative.title}.", "success")
            return redirect(url_for("metrics.objective_detail", objective_id=objective.id))
    return render_template(
        "metrics/objective_form.html", form=form, objective=objective, initiative=None
    ), _status(form)


@blueprint.route("/initiatives/<int:initiative_id>/goals/new", methods=["GET", "POST"])
@requires(Permission.RECORDS_MANAGE)
def goal_new(initiative_id: int) -> FormPage:
    initiative = db.get_or_404(Initiative, initiative_id)
    form = GoalForm()
    form.set_choices(catalogue.all_kpis(), organisation.assignable_owners())
    if request.method == "GET":
        form.owner_id.data = str(current_user.id)
    if form.validate_on_submit():
        try:
            objectives.create_goal(
                initiative,
                kpi=form.kpi.data,
                baseline_start=form.baseline_start.data,
                baseline_end=form.baseline_end.data,
                target_kind=form.target_kind.data,
                target_value=form.target_value.data,
                deadline=form.deadline.data,
                owner_id=form.owner_id.data,
            )
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            flash("Added the goal.", "success")
            return redirect(
                url_for("metrics.objective_detail", objective_id=initiative.objective_id)
            )
    return render_template("metrics/goal_form.html", form=form, initiative=initiative), _status(
        form
    )


@blueprint.route("/goals/<int:goal_id>/edit", methods=["GET", "POST"])
@requires(Permission.RECORDS_MANAGE)
def goal_edit(goal_id: int) -> FormPage:
    goal = db.get_or_404(MetricGoal, goal_id)
    form = GoalForm(obj=goal if request.method == "GET" else None)
    form.set_choices(catalogue.all_kpis(), organisation.assignable_owners(goal.owner_id))
    if request.method == "GET":
        form.owner_id.data = str(goal.owner_id or "")
        form.target_kind.data = goal.target_kind.value
        form.version.data = str(goal.version)
    if form.validate_on_submit():
        try:
            objectives.update_goal(
                goal,
                expected_version=form.version.data,
                kpi=form.kpi.data,
                baseline_start=form.baseline_start.data,
                baseline_end=form.baseline_end.data,
                target_kind=form.target_kind.data,
                target_value=form.target_value.data,
                deadline=form.deadline.data,
                owner_id=form.owner_id.data,
            )
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            flash("Saved the goal.", "success")
            return redirect(
                url_for("metrics.objective_detail", objective_id=goal.initiative.objective_id)
            )
    return render_template(
        "metrics/goal_form.html",
        form=form,
        initiative=goal.initiative,
        goal=goal,
        history=history_of(goal),
    ), _status(form)


# --- the financial case and principle coverage ----------------------------------------------------


@blueprint.route("/financial-case")
@requires(Permission.DASHBOARD_VIEW)
def financial_case() -> tuple[str, int]:
    mean_value = recovery.mean_customer_value()
    form = AssumptionsForm(formdata=request.args or None)
    if not request.args:
        form.annual_value.data = mean_value
    valid = not request.args or form.validate()
    case = None
    if valid:
        assumptions = recovery.Assumptions(
            annual_value=form.annual_value.data
            if form.annual_value.data is not None
            else mean_value,
            margin_percent=Decimal(form.margin_percent.data),
            lifetime_years=Decimal(form.lifetime_years.data),
            acquisition_cost=Decimal(form.acquisition_cost.data),
        )
        scope = Scope.last_days(int(form.period.data or "365"))
        case = recovery.financial_case(scope, assumptions)
    return render_template(
        "metrics/financial_case.html",
        form=form,
        case=case,
        mean_value=mean_value,
        paradox_svg=recovery.paradox_chart_svg(case.paradox) if case else "",
        min_known=recovery.PARADOX_MIN_KNOWN,
        money=services.format_money,
        currency=services.reporting_currency(),
    ), (200 if valid else 422)


@blueprint.route("/principle-coverage")
@requires(Permission.DASHBOARD_VIEW)
def principle_coverage() -> str:
    return render_template(
        "metrics/principle_coverage.html",
        coverage=recovery.principle_coverage(),
        recent_days=recovery.RECENT_WORK_DAYS,
    )


_STATUS_CLASSES = {
    objectives.GoalStatus.ON_TRACK: "text-bg-success",
    objectives.GoalStatus.AT_RISK: "text-bg-warning",
    objectives.GoalStatus.OFF_TRACK: "text-bg-danger",
    objectives.GoalStatus.NO_DATA: "text-bg-secondary",
}


@blueprint.context_processor
def _template_helpers() -> dict[str, object]:
    return {
        "kpi_label": catalogue.label_of,
        "status_class": _STATUS_CLASSES.get,
    }
