"""Document control pages: the register, a document and its revisions, the signed workflow, the
revision in force on a date, read-and-understood confirmations."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.audit.services import history_of
from app.core.db import utcnow
from app.core.errors import ServiceError
from app.core.files import download_response
from app.core.forms import apply_service_error
from app.core.pagination import paginate, parse_page_number
from app.core.permissions import ROLE_LABELS, Permission, Role, requires
from app.documents import reading, services
from app.documents.forms import (
    AsOfForm,
    DocumentForm,
    DraftForm,
    ListFilterForm,
    NewDocumentForm,
    RevisionStartForm,
    SignStepForm,
    TransitionForm,
)
from app.documents.models import ControlledDocument, DocumentRevision, DocumentType, RevisionStatus
from app.documents.rendering import render_markdown
from app.documents.workflow import REVISION_WORKFLOW
from app.extensions import db

blueprint = Blueprint("documents", __name__, template_folder="templates", url_prefix="/documents")

Page = str | Response | tuple[str, int]


def _user() -> Any:
    return current_user._get_current_object()  # type: ignore[attr-defined]


def _document_or_404(number: str) -> ControlledDocument:
    document = services.get_by_number(number)
    if document is None:
        abort(404)
    return document


def _revision_or_404(number: str, revision_number: int) -> DocumentRevision:
    revision = services.get_revision(_document_or_404(number), revision_number)
    if revision is None:
        abort(404)
    return revision


def _upload(field: Any) -> tuple[Any, str | None] | None:
    data = field.data
    if data is None or not getattr(data, "filename", ""):
        return None
    return data.stream, data.filename


def _ids(values: list[str] | None) -> list[int]:
    return [int(value) for value in values or [] if str(value).isdigit()]


# --- the register ------------------------------------------------------------------------------


@blueprint.route("")
@requires(Permission.RECORDS_VIEW)
def document_list() -> tuple[str, int]:
    form = ListFilterForm(request.args)
    form.process_id.choices = [("", "Any")] + [
        (str(p.id), p.name) for p in services.process_choices()
    ]
    args = {key: value for key, value in request.args.items() if key != "page" and value}
    if request.args and not form.validate():
        return render_template("documents/list.html", form=form, page=None, args=args), 422
    query = (form.q.data or "").strip()
    filters = services.DocumentFilters(
        doc_type=DocumentType(form.doc_type.data) if form.doc_type.data else None,
        status=RevisionStatus(form.status.data) if form.status.data else None,
        process_id=int(form.process_id.data) if form.process_id.data else None,
        review_overdue=bool(form.review_overdue.data),
        search=query,
    )
    page = paginate(
        db.session,
        services.list_query(filters),
        parse_page_number(request.args.get("page")),
        50,
    )
    return render_template(
        "documents/list.html",
        form=form,
        page=page,
        args=args,
        effective_of=services.effective_revision,
        in_progress_of=services.revision_in_progress,
        is_review_overdue=services.is_review_overdue,
    ), 200


@blueprint.route("/in-force")
@requires(Permission.RECORDS_VIEW)
def in_force() -> tuple[str, int]:
    form = AsOfForm(request.args)
    if request.args and not form.validate():
        return render_template("documents/in_force.html", form=form, rows=None), 422
    day: date = form.date.data or utcnow().date()
    form.date.data = day
    return render_template(
        "documents/in_force.html", form=form, rows=services.in_force_on(day), day=day
    ), 200


def _document_form(form: DocumentForm) -> DocumentForm:
    form.set_choices(services.owner_choices(), services.process_choices())
    return form


@blueprint.route("/new", methods=["GET", "POST"])
@requires(Permission.RECORDS_MANAGE)
def document_new() -> Page:
    form = _document_form(NewDocumentForm())
    if request.method == "GET":
        form.owner_id.data = str(_user().id)
    if form.validate_on_submit():
        try:
            document = services.create_document(
                doc_type=form.doc_type.data,
                title=form.title.data,
                owner_id=int(form.owner_id.data) if form.owner_id.data else None,
                process_ids=_ids(form.process_ids.data),
                reader_roles=form.reader_roles.data or [],
                review_interval_months=form.review_interval_months.data,
                change_reason=form.change_reason.data,
                body_markdown=form.body_markdown.data,
                upload=_upload(form.file),
                user=_user(),
            )
        except ServiceError as error:
            if error.field == "files":
                error.field = "file"
            apply_service_error(form, error)
        else:
            flash(f"Created {document.number} with revision 1 as a draft.", "success")
            return redirect(url_for("documents.document_detail", number=document.number))
    status = 422 if form.is_submitted() else 200
    return render_template("documents/form.html", form=form, document=None), status


@blueprint.route("/<number>")
@requires(Permission.RECORDS_VIEW)
def document_detail(number: str) -> tuple[str, int]:
    return _render_detail(_document_or_404(number))


def _render_detail(
    document: ControlledDocument, status: int = 200, **forms: Any
) -> tuple[str, int]:
    effective = services.effective_revision(document)
    acknowledgements = reading.acknowledgements_of(effective) if effective else []
    own = reading.own_acknowledgement(effective, _user()) if effective else None
    return render_template(
        "documents/detail.html",
        document=document,
        effective=effective,
        in_progress=services.revision_in_progress(document),
        acknowledgements=acknowledgements,
        pending=[ack for ack in acknowledgements if ack.acknowledged_at is None],
        own=own,
        may_edit=services.may_edit(_user(), document),
        start_form=forms.get("start_form") or RevisionStartForm(formdata=None),
        review_overdue=services.is_review_overdue(document),
        history=history_of(document),
        render_markdown=render_markdown,
        today_date=utcnow().date(),
        role_label=lambda role: ROLE_LABELS.get(Role(role), role),
    ), status


@blueprint.route("/<number>/edit", methods=["GET", "POST"])
@requires(Permission.RECORDS_VIEW)
def document_edit(number: str) -> Page:
    document = _document_or_404(number)
    if not services.may_edit(_user(), document):
        abort(403)
    form = _document_form(DocumentForm(obj=None if request.method == "POST" else document))
    if request.method == "GET":
        form.owner_id.data = str(document.owner_id)
        form.process_ids.data = [str(p.id) for p in document.processes]
        form.reader_roles.data = document.roles
        form.version.data = str(document.version)
    if form.validate_on_submit():
        try:
            services.update_document(
                document,
                title=form.title.data,
                owner_id=int(form.owner_id.data) if form.owner_id.data else None,
                process_ids=_ids(form.process_ids.data),
                reader_roles=form.reader_roles.data or [],
                review_interval_months=form.review_interval_months.data,
                expected_version=form.version.data,
                user=_user(),
            )
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            flash(f"Saved {document.number}.", "success")
            return redirect(url_for("documents.document_detail", number=document.number))
    status = 422 if form.is_submitted() else 200
    return render_template("documents/form.html", form=form, document=document), status


@blueprint.route("/<number>/revisions", methods=["POST"])
@requires(Permission.RECORDS_VIEW)
def revision_start(number: str) -> Page:
    document = _document_or_404(number)
    if not services.may_edit(_user(), document):
        abort(403)
    form = RevisionStartForm()
    if form.validate_on_submit():
        try:
            revision = services.start_revision(
                document,
                change_reason=form.change_reason.data,
                capa_reference=form.capa_reference.data,
                user=_user(),
            )
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            flash(f"Started revision {revision.number} as a draft.", "success")
            return redirect(_revision_url(revision, "edit"))
    return _render_detail(_document_or_404(number), 422, start_form=form)


@blueprint.route("/<number>/confirm-review", methods=["POST"])
@requires(Permission.RECORDS_VIEW)
def document_confirm_review(number: str) -> Response:
    document = _document_or_404(number)
    if not services.may_edit(_user(), document):
        abort(403)
    try:
        services.confirm_review(document, _user())
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        flash(
            f"Review confirmed: the next review of {document.number} is due {document.review_due}.",
            "success",
        )
    return redirect(url_for("documents.document_detail", number=number))


# --- revisions ---------------------------------------------------------------------------------


def _revision_url(revision: DocumentRevision, page: str = "detail") -> str:
    endpoint = "documents.revision_edit" if page == "edit" else "documents.revision_detail"
    return url_for(endpoint, number=revision.document.number, revision_number=revision.number)


def _render_revision(
    revision: DocumentRevision, status: int = 200, **forms: Any
) -> tuple[str, int]:
    user = _user()
    return render_template(
        "documents/revision.html",
        revision=revision,
        document=revision.document,
        signatures=services.signature_rows(revision),
        transitions=REVISION_WORKFLOW.available(revision, user),
        sign_form=forms.get("sign_form") or SignStepForm(formdata=None),
        transition_form=forms.get("transition_form") or TransitionForm(formdata=None),
        sign_error=forms.get("sign_error"),
        may_edit=services.may_edit(user, revision.document),
        render_markdown=render_markdown,
        history=history_of(revision),
        RevisionStatus=RevisionStatus,
    ), status


@blueprint.route("/<number>/revisions/<int:revision_number>")
@requires(Permission.RECORDS_VIEW)
def revision_detail(number: str, revision_number: int) -> tuple[str, int]:
    return _render_revision(_revision_or_404(number, revision_number))


@blueprint.route("/<number>/revisions/<int:revision_number>/file")
@requires(Permission.RECORDS_VIEW)
def revision_file(number: str, revision_number: int) -> Response:
    revision = _revision_or_404(number, revision_number)
    if revision.file_sha256 is None:
        abort(404)
    from app.core.files import StoredFile

    stored = db.session.get(StoredFile, revision.file_sha256)
    if stored is None:
        abort(404)
    return download_response(db.session, stored, revision.filename or "document")


@blueprint.route("/<number>/revisions/<int:revision_number>/edit", methods=["GET", "POST"])
@requires(Permission.RECORDS_VIEW)
def revision_edit(number: str, revision_number: int) -> Page:
    revision = _revision_or_404(number, revision_number)
    if not services.may_edit(_user(), revision.document):
        abort(403)
    form = DraftForm(obj=None if request.method == "POST" else revision)
    if request.method == "GET":
        form.capa_reference.data = revision.capa.reference if revision.capa else ""
        form.version.data = str(revision.version)
    if form.validate_on_submit():
        try:
            services.save_draft(
                revision,
                body_markdown=form.body_markdown.data,
                upload=_upload(form.file),
                change_reason=form.change_reason.data,
                capa_reference=form.capa_reference.data,
                expected_version=form.version.data,
                user=_user(),
            )
        except ServiceError as error:
            if error.field == "files":
                error.field = "file"
            apply_service_error(form, error)
        else:
            flash(f"Saved the draft of revision {revision.number}.", "success")
            return redirect(_revision_url(revision))
    status = 422 if form.is_submitted() else 200
    return render_template(
        "documents/revision_form.html", form=form, revision=revision, document=revision.document
    ), status


SIGN_STEPS = {
    "submit": services.submit_for_review,
    "review": services.sign_review,
    "approve": services.approve,
}


@blueprint.route("/<number>/revisions/<int:revision_number>/sign", methods=["POST"])
@requires(Permission.RECORDS_SIGN)
def revision_sign(number: str, revision_number: int) -> Page:
    revision = _revision_or_404(number, revision_number)
    form = SignStepForm()
    step = SIGN_STEPS.get(form.step.data or "")
    if form.validate_on_submit() and step is not None:
        try:
            step(revision, _user(), form.password.data)
        except ServiceError as error:
            db.session.rollback()
            return _render_revision(
                _revision_or_404(number, revision_number), 422, sign_error=error.message
            )
        flash(f"Signed {revision.label}.", "success")
        return redirect(_revision_url(revision))
    message = "Choose what to sign." if step is None else "Re-enter your password to sign."
    return _render_revision(revision, 422, sign_form=form, sign_error=message)


@blueprint.route("/<number>/revisions/<int:revision_number>/transition", methods=["POST"])
@requires(Permission.RECORDS_MANAGE)
def revision_transition(number: str, revision_number: int) -> Page:
    revision = _revision_or_404(number, revision_number)
    form = TransitionForm()
    actions = {
        "make_effective": lambda: services.make_effective(revision, _user()),
        "obsolete": lambda: services.make_obsolete(revision, _user(), form.reason.data),
        "return_to_draft": lambda: services.return_to_draft(revision, _user(), form.reason.data),
    }
    action = actions.get(form.action.data or "")
    if form.validate_on_submit() and action is not None:
        try:
            action()
        except ServiceError as error:
            db.session.rollback()
            return _render_revision(
                _revision_or_404(number, revision_number), 422, sign_error=error.message
            )
        flash(f"{revision.label} is now {revision.status.label.lower()}.", "success")
        return redirect(_revision_url(revision))
    return _render_revision(revision, 422, sign_error="Choose an action.")


@blueprint.route("/<number>/revisions/<int:revision_number>/acknowledge", methods=["POST"])
@requires(Permission.RECORDS_VIEW)
def revision_acknowledge(number: str, revision_number: int) -> Response:
    revision = _revision_or_404(number, revision_number)
    try:
        reading.acknowledge(revision, _user())
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        flash(f"Recorded: you read and understood {revision.label}.", "success")
    return redirect(url_for("documents.document_detail", number=number))


@blueprint.route("/<number>/revisions/<int:revision_number>.pdf")
@requires(Permission.RECORDS_EXPORT)
def revision_pdf(number: str, revision_number: int) -> Response:
    """The controlled copy (PDF) of a revision; one no longer in force is watermarked."""
    from flask import current_app

    from reports.document import gather_document_copy
    from reports.generate import generate_report

    revision = _revision_or_404(number, revision_number)
    user = _user()
    generated = generate_report(
        db.session,
        gather_document_copy(revision),
        generated_by=f"{user.full_name} ({user.email}, {user.role.label})",
        organisation=current_app.config["ORG_NAME"],
    )
    response = Response(generated.pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{generated.filename}"'
    response.headers["X-Report-Id"] = generated.report_id
    return response
