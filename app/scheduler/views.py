"""The scheduler's admin page: each job's schedule, thresholds, on/off, "Run now", run history."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from app.accounts.models import User
from app.core.errors import NotFound, ServiceError
from app.core.forms import apply_service_error
from app.core.pagination import parse_page_number
from app.core.permissions import Permission, can, requires
from app.scheduler import runner as runner_errors
from app.scheduler import services
from app.scheduler.forms import HistoryReviewForm, RunNowForm, job_form_class
from app.scheduler.models import JobRunStatus
from app.scheduler.signals import RECURRENCE_REVIEW_JOB

blueprint = Blueprint("scheduler", __name__, template_folder="templates")


def _user() -> User:
    return current_user._get_current_object()  # type: ignore[attr-defined]


def _overview(name: str) -> services.JobOverview:
    try:
        return services.job_overview(name)
    except NotFound:
        abort(404)


@blueprint.route("/admin/scheduler")
@requires(Permission.SCHEDULER_VIEW)
def job_list() -> str:
    return render_template("scheduler/job_list.html", jobs=services.job_overviews())


def _settings_form(overview: services.JobOverview, formdata: bool) -> FlaskForm:
    form_class = job_form_class(overview.definition)
    if formdata:
        return form_class()
    values = overview.definition.settings_with_defaults(overview.job.settings)
    return form_class(
        formdata=None, data={"cron": overview.job.cron, "enabled": overview.job.enabled, **values}
    )


def _render_detail(
    overview: services.JobOverview,
    status: int = 200,
    form: FlaskForm | None = None,
    run_form: FlaskForm | None = None,
    history_form: FlaskForm | None = None,
) -> tuple[str, int]:
    page = services.run_history(
        overview.definition.name,
        parse_page_number(request.args.get("page")),
        int(current_app.config["PAGE_SIZE"]),
    )
    return render_template(
        "scheduler/job_detail.html",
        overview=overview,
        form=form or _settings_form(overview, False),
        run_form=run_form or RunNowForm(formdata=None, data={"confirm": "run"}),
        history_form=(history_form or HistoryReviewForm(formdata=None))
        if overview.definition.name == RECURRENCE_REVIEW_JOB
        else None,
        page=page,
        may_manage=can(Permission.SCHEDULER_MANAGE),
        JobRunStatus=JobRunStatus,
    ), status


@blueprint.route("/admin/scheduler/<name>")
@requires(Permission.SCHEDULER_VIEW)
def job_detail(name: str) -> tuple[str, int]:
    return _render_detail(_overview(name))


@blueprint.route("/admin/scheduler/<name>/settings", methods=["POST"])
@requires(Permission.SCHEDULER_MANAGE)
def job_settings(name: str) -> Any:
    overview = _overview(name)
    form = _settings_form(overview, True)
    if not form.validate():
        return _render_detail(overview, 422, form=form)
    settings = {setting.name: form[setting.name].data for setting in overview.definition.settings}
    try:
        services.update_job(
            name,
            cron=form.cron.data,
            enabled=bool(form.enabled.data),
            settings=settings,
            user=_user(),
        )
    except ServiceError as error:
        apply_service_error(form, error)
        return _render_detail(_overview(name), 422, form=form)
    flash(f"{overview.definition.title}: schedule and settings saved.", "success")
    return redirect(url_for("scheduler.job_detail", name=name))


@blueprint.route("/admin/scheduler/<name>/run", methods=["POST"])
@requires(Permission.SCHEDULER_MANAGE)
def job_run_now(name: str) -> Response | tuple[str, int]:
    overview = _overview(name)
    run_form = RunNowForm()
    if not run_form.validate():
        return _render_detail(overview, 422, run_form=run_form)
    try:
        run = services.run_job_now(name, _user())
    except ServiceError as error:  # e.g. a run of the job is still going: nothing was started
        flash(error.message, "warning")
        return redirect(url_for("scheduler.job_detail", name=name))
    if run.status == JobRunStatus.SUCCEEDED:
        flash(f"{overview.definition.title} ran: {_counts_text(run.counts)}.", "success")
    else:
        flash(f"{overview.definition.title} failed: {run.error.splitlines()[0]}", "error")
    return redirect(url_for("scheduler.job_detail", name=name))


@blueprint.route("/admin/scheduler/<name>/review-history", methods=["POST"])
@requires(Permission.SCHEDULER_MANAGE)
def job_review_history(name: str) -> Response | tuple[str, int]:
    """The recurring-failure review as of a chosen day, or over a range (an imported history)."""
    overview = _overview(name)
    if name != RECURRENCE_REVIEW_JOB:
        abort(404)
    form = HistoryReviewForm()
    if not form.validate():
        return _render_detail(overview, 422, history_form=form)
    try:
        run = services.run_history_review(_user(), form.review_from.data, form.review_to.data)
    except runner_errors.JobAlreadyRunning as error:  # nothing was started
        flash(error.message, "warning")
        return redirect(url_for("scheduler.job_detail", name=name))
    except ServiceError as error:
        apply_service_error(form, error)
        return _render_detail(overview, 422, history_form=form)
    if run.status == JobRunStatus.SUCCEEDED:
        flash(f"{overview.definition.title} ran: {_counts_text(run.counts)}.", "success")
    else:
        flash(f"{overview.definition.title} failed: {run.error.splitlines()[0]}", "error")
    return redirect(url_for("scheduler.job_detail", name=name))


def _counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{key.replace('_', ' ')} {value}" for key, value in counts.items()) or "done"
