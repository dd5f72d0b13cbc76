"""Import pages: upload → map columns → preview → import (with a progress bar) → result.

The import itself runs in steps: the job page's script (static/import.js) posts to the step
endpoint until the job is finished, each step one transaction, so progress is durable and a
closed page resumes where it stopped when opened again.
"""

from __future__ import annotations

import json
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from app.core.errors import ServiceError
from app.core.forms import apply_service_error, select_choices
from app.core.permissions import Permission, requires
from app.extensions import db
from app.intake import services
from app.intake.forms import (
    MappingPageForm,
    StartForm,
    UploadForm,
    definition_from_form,
    form_state,
    needs_json,
)
from app.intake.mapping import (
    DATE_FIELDS,
    ENUM_FIELDS,
    FIELDS,
    describe_format,
    detect_date_formats,
    suggest_fields,
)
from app.intake.models import ImportJob, ImportStatus

blueprint = Blueprint("intake", __name__, template_folder="templates", url_prefix="/import")


def _me() -> Any:
    return current_user._get_current_object()


# Room for the multipart envelope and the other form fields around the file.
UPLOAD_OVERHEAD = 64 * 1024


@blueprint.errorhandler(413)
def upload_too_large(error: Exception) -> tuple[str, int]:
    limit = services.format_size(services.setting("IMPORT_MAX_BYTES", services.DEFAULT_MAX_BYTES))
    return render_template("intake/too_large.html", limit=limit), 413


def _job_or_404(job_id: int) -> ImportJob:
    job = services.get_job(job_id)
    if job is None:
        abort(404)
    return job


@blueprint.route("", methods=["GET", "POST"])
@requires(Permission.RECORDS_IMPORT)
def upload() -> str | Response | tuple[str, int]:
    # Refuse a far larger body before it is read (the form's own check names the limit).
    limit = services.setting("IMPORT_MAX_BYTES", services.DEFAULT_MAX_BYTES)
    request.max_content_length = limit + UPLOAD_OVERHEAD
    form = UploadForm()
    mappings = services.saved_mappings()
    form.saved_mapping.choices = select_choices(
        [("", "— map the columns myself —"), *((str(m.id), m.name) for m in mappings)]
    )
    if form.validate_on_submit():
        upload_file = form.file.data
        if upload_file is None or not getattr(upload_file, "filename", ""):
            form.file.errors = ["Choose a CSV or XLSX file."]
        else:
            content = upload_file.stream.read(limit + 1)
            try:
                job = services.create_job(upload_file.filename, content, user=_me())
                chosen = next((m for m in mappings if str(m.id) == form.saved_mapping.data), None)
                if chosen is not None:
                    try:
                        services.set_mapping(job, chosen.definition_dict, user=_me())
                    except ServiceError as error:
                        flash(
                            f"The saved mapping “{chosen.name}” does not fit this file "
                            f"({error.message}) Map the columns here.",
                            "warning",
                        )
                    else:
                        return redirect(url_for("intake.preview", job_id=job.id))
                return redirect(url_for("intake.mapping", job_id=job.id))
            except ServiceError as error:
                apply_service_error(form, error)
    status = 422 if form.is_submitted() else 200
    limits = {
        "size": services.format_size(
            services.setting("IMPORT_MAX_BYTES", services.DEFAULT_MAX_BYTES)
        ),
        "max_rows": services.setting("IMPORT_MAX_ROWS", services.DEFAULT_MAX_ROWS),
    }
    return render_template(
        "intake/upload.html", form=form, limits=limits, jobs=services.recent_jobs()
    ), status


def _date_candidates(job: ImportJob, state: dict[str, Any]) -> tuple[list, list[str]]:
    mapped = [state["columns"].get(name) for name in DATE_FIELDS]
    columns = [column for column in mapped if column in job.column_names]
    if columns:
        return detect_date_formats(services.column_values(job, columns))
    # No date column mapped yet: look at every column's first values.
    return detect_date_formats(services.column_values(job, job.column_names, limit=200))


@blueprint.route("/<int:job_id>/mapping", methods=["GET", "POST"])
@requires(Permission.RECORDS_IMPORT)
def mapping(job_id: int) -> str | Response | tuple[str, int]:
    job = _job_or_404(job_id)
    if job.status not in (ImportStatus.UPLOADED, ImportStatus.MAPPED):
        return redirect(url_for("intake.job", job_id=job.id))
    form = MappingPageForm()
    definition = job.mapping_dict
    mapping_json = ""
    if form.validate_on_submit():
        try:
            definition = definition_from_form(request.form)
            services.set_mapping(job, definition, user=_me())
            save_as = request.form.get("save_as", "").strip()
            if save_as:
                services.save_mapping(save_as, definition, user=_me())
            return redirect(url_for("intake.preview", job_id=job.id))
        except ServiceError as error:
            apply_service_error(form, error)
            mapping_json = request.form.get("mapping_json", "")
            job = _job_or_404(job_id)
    if definition is None:
        definition = {"fields": suggest_fields(job.column_names)}
    elif needs_json(definition) and not mapping_json:
        mapping_json = json.dumps(definition, indent=2, ensure_ascii=False)
    state = form_state(definition)
    candidates, suggested = _date_candidates(job, state)
    if not state.get("date_formats"):
        state["date_formats"] = suggested
    return render_template(
        "intake/mapping.html",
        form=form,
        job=job,
        state=state,
        fields=FIELDS,
        enum_fields={name: [m.value for m in enum] for name, enum in ENUM_FIELDS.items()},
        date_candidates=candidates,
        describe_format=describe_format,
        mapping_json=mapping_json,
        sample=services.column_samples(job),
    ), (422 if form.is_submitted() else 200)


@blueprint.route("/<int:job_id>/preview", methods=["GET", "POST"])
@requires(Permission.RECORDS_IMPORT)
def preview(job_id: int) -> str | Response | tuple[str, int]:
    job = _job_or_404(job_id)
    if job.status is ImportStatus.UPLOADED:
        return redirect(url_for("intake.mapping", job_id=job.id))
    if job.status is not ImportStatus.MAPPED:
        return redirect(url_for("intake.job", job_id=job.id))
    form = StartForm()
    if form.validate_on_submit():
        try:
            services.start_job(job, form.mode.data, user=_me())
            return redirect(url_for("intake.job", job_id=job.id))
        except ServiceError as error:
            apply_service_error(form, error)
            job = _job_or_404(job_id)
    rows = services.preview(job)
    return render_template("intake/preview.html", form=form, job=job, rows=rows, fields=FIELDS), (
        422 if form.is_submitted() else 200
    )


@blueprint.route("/<int:job_id>")
@requires(Permission.RECORDS_IMPORT)
def job(job_id: int) -> str:
    job = _job_or_404(job_id)
    rejections = services.rejections(job) if job.finished else []
    return render_template("intake/job.html", job=job, rejections=rejections)


@blueprint.route("/<int:job_id>/step", methods=["POST"])
@requires(Permission.RECORDS_IMPORT)
def step(job_id: int) -> Response | tuple[Response, int]:
    job = services.get_job(job_id, lock=True)
    if job is None:
        abort(404)
    try:
        services.run_step(job)
        db.session.flush()
    except StaleDataError:
        # Another tab ran the same step: nothing of this one is kept; the page asks again.
        db.session.rollback()
        job = _job_or_404(job_id)
    return jsonify(
        status=job.status.value,
        label=job.status.label,
        position=job.position,
        total=job.total,
        percent=job.percent,
        imported=job.imported_count,
        duplicates=job.duplicate_count,
        rejected=job.rejected_count,
        finished=job.finished,
        message=job.message,
    )


@blueprint.route("/<int:job_id>/rejected.csv")
@requires(Permission.RECORDS_IMPORT)
def rejected_csv(job_id: int) -> Response:
    job = _job_or_404(job_id)
    filename = f"import-{job.id}-rejected-rows.csv"
    return Response(
        services.rejections_csv(job),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
