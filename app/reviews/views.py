"""Management-review pages: the list, scheduling, the meeting page with its inputs (collected
live while draft, frozen once held), notes, decisions and actions, and the chair's approval."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request
from flask import url_for as url
from flask_login import current_user
from werkzeug.wrappers import Response

from app.accounts.services import signatures_of
from app.audit.services import history_of
from app.capa import services as capa_services
from app.core.charts import scoped_svg
from app.core.errors import ServiceError, StaleRecord
from app.core.forms import apply_service_error, form_status, refuse_if_not_permitted
from app.core.permissions import Permission, requires
from app.core.signatures import changed_after_signature
from app.extensions import db
from app.reviews import services
from app.reviews.forms import (
    ApproveForm,
    CapaFromActionForm,
    MeetingForm,
    NoteForm,
    OutputForm,
    ReviewForm,
    VersionForm,
)
from app.reviews.inputs import FREE_TEXT_SECTIONS, SECTIONS, is_open_action
from app.reviews.models import ManagementReview, ReviewOutput, ReviewStatus
from app.reviews.workflow import REVIEW_WORKFLOW

blueprint = Blueprint("reviews", __name__, template_folder="templates")

FormPage = str | Response | tuple[str, int]


def _review_or_404(reference: str) -> ManagementReview:
    review = services.get_by_reference(reference)
    if review is None:
        abort(404)
    return review


def _require_edit(review: ManagementReview) -> None:
    if not services.may_edit(current_user, review):
        abort(403)


def _ids(values: list[str] | None) -> list[int]:
    return [int(value) for value in values or [] if str(value).isdigit()]


@blueprint.route("/reviews")
@requires(Permission.RECORDS_VIEW)
def review_list() -> tuple[str, int]:
    return render_template(
        "reviews/list.html",
        reviews=services.list_reviews(),
        may_plan=services.may_plan(current_user),
    ), 200


@blueprint.route("/reviews/new", methods=["GET", "POST"])
@requires(Permission.RECORDS_VIEW)
def review_new() -> FormPage:
    if not services.may_plan(current_user):
        abort(403)
    form = ReviewForm()
    form.set_choices(services.selectable_people())
    if request.method == "GET":
        form.chair_id.data = str(current_user.id)
    if form.validate_on_submit():
        try:
            review = services.schedule_review(
                title=form.title.data,
                meeting_date=form.meeting_date.data,
                period_start=form.period_start.data,
                period_end=form.period_end.data,
                chair_id=form.chair_id.data,
                attendee_ids=_ids(form.attendee_ids.data),
                guests=form.guests.data,
                agenda=form.agenda.data,
                user=current_user,
            )
        except ServiceError as error:
            refuse_if_not_permitted(error, capa_services.NotAllowed)
            apply_service_error(form, error)
        else:
            flash(f"Scheduled the management review {review.reference}.", "success")
            return redirect(url(".review_detail", reference=review.reference))
    return render_template("reviews/new.html", form=form), form_status(form)


def _render_detail(review: ManagementReview, status: int = 200, **forms: Any) -> tuple[str, int]:
    held = review.status != ReviewStatus.DRAFT
    inputs = review.inputs if held else services.preview_inputs(review)
    output_form = forms.get("output_form") or OutputForm(formdata=None)
    output_form.set_choices(services.selectable_people())
    capa_form = forms.get("capa_form") or CapaFromActionForm(formdata=None)
    capa_form.principles.choices = [(p.id, p.name) for p in capa_services.list_principles()]
    signatures = [
        (sig, not sig.is_void and changed_after_signature(sig, review))
        for sig in signatures_of(review)
    ]
    return render_template(
        "reviews/detail.html",
        review=review,
        held=held,
        inputs=inputs,
        charts={key: scoped_svg(svg, f"chart-{key}") for key, svg in review.charts.items()},
        sections=SECTIONS,
        free_text=FREE_TEXT_SECTIONS,
        notes=review.notes,
        may_edit=services.may_edit(current_user, review),
        may_plan=services.may_plan(current_user),
        read_only=services.is_read_only(review),
        is_open_action=is_open_action,
        transitions=REVIEW_WORKFLOW.available(review, current_user)
        if services.may_edit(current_user, review)
        else [],
        hold_form=forms.get("hold_form") or VersionForm(formdata=None),
        note_form=forms.get("note_form"),
        output_form=output_form,
        capa_form=capa_form,
        capa_output=forms.get("capa_output"),
        approve_form=forms.get("approve_form") or ApproveForm(formdata=None),
        done_error=forms.get("done_error"),
        stale=forms.get("stale", False),
        signatures=signatures,
        history=history_of(review),
    ), status


@blueprint.route("/reviews/<reference>")
@requires(Permission.RECORDS_VIEW)
def review_detail(reference: str) -> tuple[str, int]:
    return _render_detail(_review_or_404(reference))


@blueprint.route("/reviews/<reference>/edit", methods=["GET", "POST"])
@requires(Permission.RECORDS_VIEW)
def review_edit(reference: str) -> FormPage:
    review = _review_or_404(reference)
    _require_edit(review)
    if services.is_read_only(review):
        flash(
            f"The minutes of {review.reference} are approved; it can no longer change.", "warning"
        )
        return redirect(url(".review_detail", reference=review.reference))
    form = MeetingForm(obj=review if request.method == "GET" else None)
    form.set_choices(services.selectable_people([user.id for user in review.attendees]))
    if request.method == "GET":
        form.attendee_ids.data = [str(user.id) for user in review.attendees]
        form.version.data = str(review.version)
    stale = False
    if form.validate_on_submit():
        try:
            services.update_review(
                review,
                title=form.title.data,
                agenda=form.agenda.data,
                guests=form.guests.data,
                attendee_ids=_ids(form.attendee_ids.data),
                external_issues=form.external_issues.data,
                resources=form.resources.data,
                risk_actions=form.risk_actions.data,
                improvement_opportunities=form.improvement_opportunities.data,
                expected_version=form.version.data or "",
                user=current_user,
            )
        except ServiceError as error:
            refuse_if_not_permitted(error, capa_services.NotAllowed)
            stale = isinstance(error, StaleRecord)
            apply_service_error(form, error)
        else:
            flash(f"Saved {review.reference}.", "success")
            return redirect(url(".review_detail", reference=review.reference))
    return render_template("reviews/edit.html", form=form, review=review, stale=stale), form_status(
        form
    )


@blueprint.route("/reviews/<reference>/hold", methods=["POST"])
@requires(Permission.RECORDS_VIEW)
def review_hold(reference: str) -> Response | tuple[str, int]:
    review = _review_or_404(reference)
    _require_edit(review)
    form = VersionForm()
    try:
        services.hold_review(review, current_user, expected_version=form.version.data or "")
    except ServiceError as error:
        refuse_if_not_permitted(error, capa_services.NotAllowed)
        apply_service_error(form, error)
        return _render_detail(review, 422, hold_form=form, stale=isinstance(error, StaleRecord))
    flash(f"{review.reference} is held: its inputs are frozen.", "success")
    return redirect(url(".review_detail", reference=review.reference))


@blueprint.route("/reviews/<reference>/notes", methods=["POST"])
@requires(Permission.RECORDS_VIEW)
def note_save(reference: str) -> Response | tuple[str, int]:
    review = _review_or_404(reference)
    _require_edit(review)
    form = NoteForm()
    if form.validate_on_submit():
        try:
            services.set_note(
                review,
                form.section.data,
                form.note.data,
                expected_version=form.version.data or "",
                user=current_user,
            )
        except ServiceError as error:
            refuse_if_not_permitted(error, capa_services.NotAllowed)
            apply_service_error(form, error)
        else:
            flash("Saved the note.", "success")
            return redirect(url(".review_detail", reference=review.reference))
    return _render_detail(review, 422, note_form=form)


@blueprint.route("/reviews/<reference>/outputs", methods=["POST"])
@requires(Permission.RECORDS_VIEW)
def output_add(reference: str) -> Response | tuple[str, int]:
    review = _review_or_404(reference)
    _require_edit(review)
    form = OutputForm()
    form.set_choices(services.selectable_people())
    if form.validate_on_submit():
        try:
            output = services.add_output(
                review,
                kind=form.kind.data,
                text=form.text.data,
                owner_id=form.owner_id.data or None,
                due_date=form.due_date.data,
                user=current_user,
            )
        except ServiceError as error:
            refuse_if_not_permitted(error, capa_services.NotAllowed)
            apply_service_error(form, error)
        else:
            flash(f"Recorded {output.reference}.", "success")
            return redirect(url(".review_detail", reference=review.reference))
    return _render_detail(review, 422, output_form=form)


def _output_or_404(review: ManagementReview, output_id: int) -> ReviewOutput:
    output = db.session.get(ReviewOutput, output_id)
    if output is None or output.review_id != review.id:
        abort(404)
    return output


@blueprint.route("/reviews/<reference>/outputs/<int:output_id>/capa", methods=["POST"])
@requires(Permission.RECORDS_VIEW)
def output_capa(reference: str, output_id: int) -> Response | tuple[str, int]:
    review = _review_or_404(reference)
    output = _output_or_404(review, output_id)
    if not services.may_plan(current_user):
        abort(403)
    form = CapaFromActionForm()
    form.principles.choices = [(p.id, p.name) for p in capa_services.list_principles()]
    if form.validate_on_submit():
        try:
            capa = services.action_to_capa(
                output, kind=form.kind.data, principle_ids=form.principles.data, user=current_user
            )
        except ServiceError as error:
            refuse_if_not_permitted(error, capa_services.NotAllowed)
            apply_service_error(form, error)
        else:
            flash(f"{output.reference} is now the CAPA {capa.reference}.", "success")
            return redirect(url("capa.capa_detail", reference=capa.reference))
    return _render_detail(review, 422, capa_form=form, capa_output=output.id)


@blueprint.route("/reviews/<reference>/outputs/<int:output_id>/done", methods=["POST"])
@requires(Permission.RECORDS_VIEW)
def output_done(reference: str, output_id: int) -> Response | tuple[str, int]:
    review = _review_or_404(reference)
    output = _output_or_404(review, output_id)
    try:
        services.complete_action(output, user=current_user)
    except ServiceError as error:
        refuse_if_not_permitted(error, capa_services.NotAllowed)
        db.session.rollback()
        return _render_detail(review, 422, done_error=(output_id, error.message))
    flash(f"{output.reference} is done.", "success")
    return redirect(url(".review_detail", reference=review.reference))


@blueprint.route("/reviews/<reference>/approve", methods=["POST"])
@requires(Permission.RECORDS_VIEW)
def review_approve(reference: str) -> Response | tuple[str, int]:
    review = _review_or_404(reference)
    _require_edit(review)
    form = ApproveForm()
    stale = False
    if form.validate_on_submit():
        try:
            signature = services.approve_minutes(
                review,
                current_user,
                form.password.data,
                expected_version=form.version.data or "",
            )
        except ServiceError as error:
            refuse_if_not_permitted(error, capa_services.NotAllowed)
            stale = isinstance(error, StaleRecord)
            apply_service_error(form, error)
        else:
            flash(f"Approved the minutes: {signature.manifestation()}.", "success")
            return redirect(url(".review_detail", reference=review.reference))
    form.password.data = ""
    return _render_detail(review, 422, approve_form=form, stale=stale)
