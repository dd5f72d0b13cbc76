from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from app.core.errors import ServiceError, StaleRecord
from app.core.forms import apply_service_error, refuse_if_not_permitted
from app.core.permissions import Permission, requires, role_can
from app.nonconformities import services as nc_services
from app.nonconformities.models import Nonconformity
from app.rca import services
from app.rca.fishbone import fishbone
from app.rca.forms import (
    METHOD_CHOICES,
    EightDForm,
    IshikawaCauseForm,
    RootCauseForm,
    StartAnalysisForm,
    VersionOnlyForm,
    WhyForm,
)
from app.rca.models import ISHIKAWA_CATEGORIES, RootCauseAnalysis

blueprint = Blueprint("rca", __name__, template_folder="templates")

ANALYSIS_URL = "/nonconformities/<reference>/analyses/<int:analysis_id>"
Page = Response | tuple[str, int]


# --- loading and rendering ---------------------------------------------------------------------


def _nonconformity_or_404(reference: str) -> Nonconformity:
    nc = nc_services.get_by_reference(reference)
    if nc is None:
        abort(404)
    return nc


def _analysis_or_404(reference: str, analysis_id: int) -> RootCauseAnalysis:
    analysis = services.get_analysis(_nonconformity_or_404(reference), analysis_id)
    if analysis is None:
        abort(404)
    return analysis


def _editable_analysis_or_403(reference: str, analysis_id: int) -> RootCauseAnalysis:
    analysis = _analysis_or_404(reference, analysis_id)
    if not nc_services.may_edit(current_user, analysis.nonconformity):
        abort(403)
    return analysis


def _back_to(analysis: RootCauseAnalysis, anchor: str) -> Response:
    return redirect(
        url_for(
            ".analysis_detail",
            reference=analysis.nonconformity.reference,
            analysis_id=analysis.id,
            _anchor=anchor,
        )
    )


def _handle(form: FlaskForm, error: ServiceError) -> bool:
    """Show a refusal on `form`; 403 for a user who may not act. Returns whether it was stale."""
    refuse_if_not_permitted(error)
    apply_service_error(form, error)
    return isinstance(error, StaleRecord)


@dataclass
class Failed:
    """The form that was refused, for the page to show with its errors and entries."""

    kind: str = ""
    form: FlaskForm | None = None
    item_id: int | str | None = None
    stale: bool = False


def _render(analysis: RootCauseAnalysis, failed: Failed | None = None) -> tuple[str, int]:
    failed = failed or Failed()
    nc = analysis.nonconformity

    def form_for(kind: str, form_class: type[FlaskForm], item_id: Any = None) -> FlaskForm:
        if failed.kind == kind and failed.item_id == item_id and failed.form is not None:
            return failed.form
        return form_class(formdata=None)

    groups = services.ishikawa_groups(analysis)
    return render_template(
        "rca/analysis.html",
        nc=nc,
        analysis=analysis,
        may_edit=nc_services.may_edit(current_user, nc),
        may_verify=role_can(current_user.role, Permission.RECORDS_MANAGE),
        is_open=nc.status not in nc_services.FINISHED_STATUSES,
        failed=failed,
        form_for=form_for,
        why_form=form_for("why_add", WhyForm),
        cause_form=form_for("cause_add", IshikawaCauseForm),
        root_cause_form=form_for("root_cause_add", RootCauseForm),
        eight_d=services.eight_d_contents(analysis),
        groups=groups,
        fishbone=fishbone(analysis.problem_statement, groups),
        six_ms=ISHIKAWA_CATEGORIES,
        history=services.analysis_history(analysis),
    ), (422 if failed.form is not None else 200)


# --- pages -------------------------------------------------------------------------------------


@blueprint.route(ANALYSIS_URL)
@requires(Permission.RECORDS_VIEW)
def analysis_detail(reference: str, analysis_id: int) -> tuple[str, int]:
    return _render(_analysis_or_404(reference, analysis_id))


@blueprint.route("/nonconformities/<reference>/analyses", methods=["POST"])
@requires(Permission.RECORDS_VIEW)
def analysis_start(reference: str) -> Page:
    nc = _nonconformity_or_404(reference)
    if not nc_services.may_edit(current_user, nc):
        abort(403)
    form = StartAnalysisForm()
    if form.validate_on_submit():
        try:
            analysis = services.start_analysis(
                nc, form.method.data, form.problem_statement.data, current_user
            )
        except ServiceError as error:
            _handle(form, error)
        else:
            flash(f"Started the {analysis.method.label} analysis of {nc.reference}.", "success")
            return _back_to(analysis, "editor")
    return render_template("rca/analysis_start.html", nc=nc, form=form, methods=METHOD_CHOICES), 422


def _change(
    analysis: RootCauseAnalysis,
    form: FlaskForm,
    kind: str,
    change: Callable[[str], Any],
    done: Callable[[Any], tuple[str, str]],
    item_id: int | str | None = None,
) -> Page:
    """Apply one posted change to the analysis: `change(expected_version)` calls the service and
    `done(result)` gives the message and the part of the page to return to. A refused change
    shows the page again with the form's errors (and a reload link when it was stale)."""
    stale = False
    if form.validate_on_submit():
        try:
            result = change(form.version.data or "")
        except ServiceError as error:
            stale = _handle(form, error)
        else:
            message, anchor = done(result)
            flash(message, "success")
            return _back_to(analysis, anchor)
    return _render(analysis, Failed(kind, form, item_id, stale=stale))


# --- 5 Whys ------------------------------------------------------------------------------------


@blueprint.route(ANALYSIS_URL + "/whys", methods=["POST"])
@requires(Permission.RECORDS_VIEW)
def why_add(reference: str, analysis_id: int) -> Page:
    analysis = _editable_analysis_or_403(reference, analysis_id)
    form = WhyForm()
    return _change(
        analysis,
        form,
        "why_add",
        lambda version: services.add_why(
            analysis, form.why.data, form.because.data, user=current_user, expected_version=version
        ),
        lambda step: (f"Added why {step.position}.", "whys"),
    )


@blueprint.route(ANALYSIS_URL + "/whys/<int:step_id>", methods=["POST"])
@requires(Permission.RECORDS_VIEW)
def why_update(reference: str, analysis_id: int, step_id: int) -> Page:
    analysis = _editable_analysis_or_403(reference, analysis_id)
    form = WhyForm()
    return _change(
        analysis,
        form,
        "why_update",
        lambda version: services.update_why(
            analysis,
            step_id,
            form.why.data,
            form.because.data,
            user=current_user,
            expected_version=version,
        ),
        lambda step: (f"Saved why {step.position}.", "whys"),
        step_id,
    )


@blueprint.route(ANALYSIS_URL + "/whys/<int:step_id>/remove", methods=["POST"])
@requires(Permission.RECORDS_VIEW)
def why_remove(reference: str, analysis_id: int, step_id: int) -> Page:
    analysis = _editable_analysis_or_403(reference, analysis_id)
    return _change(
        analysis,
        VersionOnlyForm(),
        "why_remove",
        lambda version: services.remove_why(
            analysis, step_id, user=current_user, expected_version=version
        ),
        lambda _: ("Removed the step; the steps after it moved up.", "whys"),
        step_id,
    )


# --- Ishikawa ----------------------------------------------------------------------------------


@blueprint.route(ANALYSIS_URL + "/causes", methods=["POST"])
@requires(Permission.RECORDS_VIEW)
def cause_add(reference: str, analysis_id: int) -> Page:
    analysis = _editable_analysis_or_403(reference, analysis_id)
    form = IshikawaCauseForm()
    return _change(
        analysis,
        form,
        "cause_add",
        lambda version: services.add_ishikawa_cause(
            analysis,
            form.category.data,
            form.cause.data,
            user=current_user,
            expected_version=version,
        ),
        lambda cause: (f"Added a cause under {cause.category}.", "causes"),
    )


@blueprint.route(ANALYSIS_URL + "/causes/<int:cause_id>/remove", methods=["POST"])
@requires(Permission.RECORDS_VIEW)
def cause_remove(reference: str, analysis_id: int, cause_id: int) -> Page:
    analysis = _editable_analysis_or_403(reference, analysis_id)
    return _change(
        analysis,
        VersionOnlyForm(),
        "cause_remove",
        lambda version: services.remove_ishikawa_cause(
            analysis, cause_id, user=current_user, expected_version=version
        ),
        lambda _: ("Removed the cause.", "causes"),
        cause_id,
    )


# --- 8D ----------------------------------------------------------------------------------------


@blueprint.route(ANALYSIS_URL + "/eight-d", methods=["POST"])
@requires(Permission.RECORDS_VIEW)
def eight_d_save(reference: str, analysis_id: int) -> Page:
    analysis = _editable_analysis_or_403(reference, analysis_id)
    form = EightDForm()
    return _change(
        analysis,
        form,
        "eight_d",
        lambda version: services.save_eight_d_section(
            analysis,
            form.discipline.data,
            form.content.data,
            user=current_user,
            expected_version=version,
        ),
        lambda section: (
            f"Saved {section.discipline}.",
            f"section-{section.discipline.lower()}",
        ),
        form.discipline.data or "",
    )


# --- root causes -------------------------------------------------------------------------------


@blueprint.route(ANALYSIS_URL + "/root-causes", methods=["POST"])
@requires(Permission.RECORDS_VIEW)
def root_cause_add(reference: str, analysis_id: int) -> Page:
    analysis = _editable_analysis_or_403(reference, analysis_id)
    form = RootCauseForm()
    return _change(
        analysis,
        form,
        "root_cause_add",
        lambda version: services.add_root_cause(
            analysis,
            form.statement.data,
            form.cause_category.data,
            user=current_user,
            expected_version=version,
        ),
        lambda _: ("Added the root cause.", "root-causes"),
    )


@blueprint.route(ANALYSIS_URL + "/root-causes/<int:root_cause_id>/verify", methods=["POST"])
@requires(Permission.RECORDS_VIEW)
def root_cause_verify(reference: str, analysis_id: int, root_cause_id: int) -> Page:
    analysis = _analysis_or_404(reference, analysis_id)
    if not role_can(current_user.role, Permission.RECORDS_MANAGE):
        abort(403)
    root_cause = services.get_root_cause(analysis, root_cause_id)
    if root_cause is None:
        abort(404)
    return _change(
        analysis,
        VersionOnlyForm(),
        "root_cause_verify",
        lambda version: services.verify_root_cause(
            root_cause, current_user, expected_version=version
        ),
        lambda _: ("Marked the root cause verified.", "root-causes"),
        root_cause_id,
    )
