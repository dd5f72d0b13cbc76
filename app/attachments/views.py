"""Attachment pages: a record's files (list, upload, remove) and the download of one file."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
)
from flask_login import current_user
from markupsafe import Markup
from werkzeug.wrappers import Response

from app.attachments import services
from app.attachments.forms import RemoveForm, UploadForm
from app.attachments.models import Attachment
from app.core.errors import ServiceError
from app.core.files import download_response, format_size, max_file_bytes
from app.core.permissions import Permission, requires
from app.extensions import db

blueprint = Blueprint("attachments", __name__, template_folder="templates")

# Room for the multipart envelope and the form's other fields around the files.
UPLOAD_OVERHEAD = 64 * 1024


def _user() -> Any:
    return current_user._get_current_object()  # type: ignore[attr-defined]


def _target_and_record(kind: str, ident: str) -> tuple[services.Target, Any]:
    target = services.target_of(kind)
    if target is None:
        abort(404)
    record = target.find(ident)
    if record is None:
        abort(404)
    return target, record


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def _limits() -> dict[str, object]:
    return {"size": format_size(max_file_bytes()), "files": services.max_files()}


def _panel(
    target: services.Target,
    record: Any,
    *,
    upload_form: UploadForm | None = None,
    remove_form: RemoveForm | None = None,
    removing: int | None = None,
    standalone: bool = False,
) -> str:
    return render_template(
        "attachments/_panel.html",
        target=target,
        record=record,
        items=services.attachments_of(record),
        may_attach=services.may_attach(_user(), target, record),
        upload_form=upload_form or UploadForm(formdata=None),
        remove_form=remove_form or RemoveForm(formdata=None),
        removing=removing,
        limits=_limits(),
        standalone=standalone,
    )


@blueprint.app_context_processor
def attachment_helpers() -> dict[str, Any]:
    def attachment_panel(kind: str, record: Any) -> Markup:
        """The attachments card of a record page: {{ attachment_panel("capa", capa) }}."""
        target = services.target_of(kind)
        if target is None or record is None:
            return Markup("")
        return Markup(_panel(target, record))

    def attachment_count(record: Any) -> int:
        return len(services.attachments_of(record, include_removed=False))

    return {
        "attachment_panel": attachment_panel,
        "attachment_count": attachment_count,
        "format_size": format_size,
    }


def _page(target: services.Target, record: Any, status: int = 200, **panel: Any) -> tuple[str, int]:
    return render_template(
        "attachments/page.html",
        target=target,
        record=record,
        back_url=services.page_url(target, record) if target.page_url else None,
        panel=Markup(_panel(target, record, standalone=True, **panel)),
    ), status


@blueprint.errorhandler(413)
def upload_too_large(error: Exception) -> tuple[Any, int]:
    message = (
        f"The upload is larger than {services.max_files()} files of {format_size(max_file_bytes())}"
        " together; attach fewer or smaller files."
    )
    if _wants_json():
        return jsonify(ok=False, errors=[message]), 413
    return render_template("attachments/too_large.html", message=message), 413


@blueprint.route("/attachments/<kind>/<ident>")
@requires(Permission.RECORDS_VIEW)
def attachment_page(kind: str, ident: str) -> tuple[str, int]:
    target, record = _target_and_record(kind, ident)
    return _page(target, record)


@blueprint.route("/attachments/<kind>/<ident>", methods=["POST"])
@requires(Permission.RECORDS_VIEW)
def attachment_upload(kind: str, ident: str) -> Any:
    target, record = _target_and_record(kind, ident)
    if not target.may_edit(_user(), record):
        abort(403)
    request.max_content_length = services.max_files() * max_file_bytes() + UPLOAD_OVERHEAD
    form = UploadForm()
    if form.validate_on_submit():
        uploads = [
            (upload.stream, upload.filename)
            for upload in request.files.getlist("files")
            if upload is not None and (upload.filename or upload.content_length)
        ]
        try:
            attached = services.attach_files(target, record, uploads, _user())
        except ServiceError as error:
            db.session.rollback()
            form.files.errors = [error.message]
        else:
            names = ", ".join(f"“{item.filename}”" for item in attached)
            message = f"Attached {names} to {target.name_of(record)}."
            flash(message, "success")
            destination = services.page_url(target, record) + "#attachments"
            if _wants_json():
                return jsonify(ok=True, message=message, redirect=destination)
            return redirect(destination)
    errors = list(form.files.errors) + list(form.form_errors)
    csrf = getattr(form, "csrf_token", None)
    if csrf is not None and csrf.errors:
        errors.append("The form expired; reload the page and upload again.")
    if not errors:
        errors = ["Choose at least one file to attach."]
    if _wants_json():
        return jsonify(ok=False, errors=errors), 422
    form.files.errors = errors
    return _page(target, record, 422, upload_form=form)


def _attachment_or_404(attachment_id: int) -> tuple[Attachment, services.Target, Any]:
    attachment = services.get_attachment(attachment_id)
    if attachment is None:
        abort(404)
    found = services.record_of(attachment)
    if found is None:
        abort(404)
    return attachment, *found


@blueprint.route("/attachments/files/<int:attachment_id>/download")
@requires(Permission.RECORDS_VIEW)
def attachment_download(attachment_id: int) -> Response:
    attachment, _, _ = _attachment_or_404(attachment_id)
    return download_response(db.session, attachment.stored, attachment.filename)


@blueprint.route("/attachments/files/<int:attachment_id>/remove", methods=["POST"])
@requires(Permission.RECORDS_VIEW)
def attachment_remove(attachment_id: int) -> Any:
    attachment, target, record = _attachment_or_404(attachment_id)
    if not target.may_edit(_user(), record):
        abort(403)
    form = RemoveForm()
    if form.validate_on_submit():
        try:
            services.remove_attachment(attachment, form.reason.data, _user())
        except ServiceError as error:
            db.session.rollback()
            form.reason.errors = [error.message]
        else:
            flash(f"Removed “{attachment.filename}” (the file stays in the trail).", "success")
            return redirect(services.page_url(target, record) + "#attachments")
    return _page(target, record, 422, remove_form=form, removing=attachment.id)
