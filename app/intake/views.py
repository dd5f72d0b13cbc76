"""Import pages: upload → map columns → preview → import (with a progress bar) → result.

The import itself runs in steps, each one transaction, so progress is durable: a background task
(app.intake.background) steps it to the end on a scheduler while the job page watches. The step
endpoint remains for pages of imports started before that (their script, static/import.js, posts
to it until the job is finished) and for scripts.
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

from app.audit.services import history_of
from app.core.errors import ServiceError, StaleRecord
from app.core.forms import apply_service_error, form_status, select_choices
from app.core.permissions import Permission, requires
from app.extensions import db
from app.intake import background, saved_mappings, services
from app.intake.forms import (
    DeleteMappingForm,
    MappingFileForm,
    MappingPageForm,
    RenameMappingForm,
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
from app.intake.models import ImportJob, ImportMapping, ImportStatus

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
                        services.set_mapping(job, chosen.definition_dict, user=_me(), saved=chosen)
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
            save_as = request.form.get("save_as", "").strip()
            saved = services.save_mapping(save_as, definition, user=_me()) if save_as else None
            if saved is not None:
                # The job then runs the saved mapping itself (with its name), and counts as a use.
                definition = saved.definition_dict
            services.set_mapping(job, definition, user=_me(), saved=saved)
            return redirect(url_for("intake.preview", job_id=job.id))
        except ServiceError as error:
            apply_service_error(form, error)
            mapping_json = request.form.get("mapping_json", "")
            job = _job_or_404(job_id)
    return _mapping_page(job, form, definition, mapping_json, 422 if form.is_submitted() else 200)


def _mapping_page(
    job: ImportJob,
    form: MappingPageForm,
    definition: dict[str, Any] | None,
    mapping_json: str,
    status: int,
    file_form: MappingFileForm | None = None,
) -> tuple[str, int]:
    """The mapping page showing `definition` (None: the columns' suggested fields)."""
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
        file_form=file_form or MappingFileForm(formdata=None),
        job=job,
        state=state,
        fields=FIELDS,
        enum_fields={name: [m.value for m in enum] for name, enum in ENUM_FIELDS.items()},
        date_candidates=candidates,
        describe_format=describe_format,
        mapping_json=mapping_json,
        sample=services.column_samples(job),
    ), status


@blueprint.route("/<int:job_id>/mapping/file", methods=["POST"])
@requires(Permission.RECORDS_IMPORT)
def mapping_file(job_id: int) -> str | Response | tuple[str, int]:
    """Fill the mapping page from an uploaded mapping file; nothing is saved until the page's
    own "Continue" is pressed."""
    job = _job_or_404(job_id)
    if job.status not in (ImportStatus.UPLOADED, ImportStatus.MAPPED):
        return redirect(url_for("intake.job", job_id=job.id))
    file_form = MappingFileForm()
    if not file_form.validate_on_submit():
        return _mapping_page(
            job, MappingPageForm(formdata=None), job.mapping_dict, "", 422, file_form
        )
    upload_file = file_form.mapping_file.data
    filename = getattr(upload_file, "filename", "") or ""
    content = (
        upload_file.stream.read(saved_mappings.MAPPING_FILE_MAX_BYTES + 1) if filename else b""
    )
    try:
        definition = saved_mappings.read_mapping_file(filename, content, job.column_names)
    except ServiceError as error:
        apply_service_error(file_form, error)
        return _mapping_page(
            job, MappingPageForm(formdata=None), job.mapping_dict, "", 422, file_form
        )
    flash(f"Loaded the mapping file {filename}. Check the fields below, then continue.", "success")
    return _mapping_page(job, MappingPageForm(formdata=None), definition, "", 200)


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
            background.run_in_background(job, _me())
            return redirect(url_for("intake.job", job_id=job.id))
        except ServiceError as error:
            apply_service_error(form, error)
            job = _job_or_404(job_id)
    rows = services.preview(job)
    return render_template(
        "intake/preview.html",
        form=form,
        job=job,
        rows=rows,
        fields=FIELDS,
        mapping=services.job_mapping(job),
        creations=services.planned_creations(job),
    ), (422 if form.is_submitted() else 200)


@blueprint.route("/<int:job_id>")
@requires(Permission.RECORDS_IMPORT)
def job(job_id: int) -> str:
    job = _job_or_404(job_id)
    rejections = services.rejections(job) if job.finished else []
    task = background.task_of(job) if job.running else None
    return render_template("intake/job.html", job=job, rejections=rejections, task=task)


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


# --- saved mappings ----------------------------------------------------------------------------


@blueprint.route("/mappings")
@requires(Permission.RECORDS_IMPORT)
def saved_mapping_list() -> str:
    return render_template(
        "intake/saved_mapping_list.html", rows=saved_mappings.list_saved_mappings()
    )


def _saved_mapping_or_404(mapping_id: int) -> ImportMapping:
    mapping = saved_mappings.get_saved_mapping(mapping_id)
    if mapping is None:
        abort(404)
    return mapping


def _saved_mapping_page(
    mapping: ImportMapping,
    rename_form: RenameMappingForm,
    delete_form: DeleteMappingForm,
    *,
    stale: bool = False,
) -> str:
    return render_template(
        "intake/saved_mapping.html",
        mapping=mapping,
        description=saved_mappings.describe(mapping),
        usage=saved_mappings.usage_of([mapping.id]).get(mapping.id, saved_mappings.MappingUsage()),
        jobs=saved_mappings.jobs_using(mapping),
        history=history_of(mapping),
        rename_form=rename_form,
        delete_form=delete_form,
        stale=stale,
    )


@blueprint.route("/mappings/<int:mapping_id>", methods=["GET", "POST"])
@requires(Permission.RECORDS_IMPORT)
def saved_mapping(mapping_id: int) -> str | Response | tuple[str, int]:
    """The saved mapping's definition, its uses and history; the form renames it."""
    mapping = _saved_mapping_or_404(mapping_id)
    form = RenameMappingForm(data=None if request.method == "POST" else {"name": mapping.name})
    if request.method == "GET":
        form.version.data = str(mapping.version)
    stale = False
    if form.validate_on_submit():
        old_name = mapping.name
        try:
            saved_mappings.rename_mapping(
                mapping, form.name.data, expected_version=form.version.data, user=_me()
            )
        except ServiceError as error:
            stale = isinstance(error, StaleRecord)
            apply_service_error(form, error)
            mapping = _saved_mapping_or_404(mapping_id)
        else:
            if mapping.name != old_name:
                flash(f"Renamed the saved mapping “{old_name}” to “{mapping.name}”.", "success")
            return redirect(url_for("intake.saved_mapping", mapping_id=mapping.id))
    delete_form = DeleteMappingForm(formdata=None, data={"version": str(mapping.version)})
    return _saved_mapping_page(mapping, form, delete_form, stale=stale), form_status(form)


@blueprint.route("/mappings/<int:mapping_id>/delete", methods=["POST"])
@requires(Permission.RECORDS_IMPORT)
def saved_mapping_delete(mapping_id: int) -> str | Response | tuple[str, int]:
    mapping = saved_mappings.get_saved_mapping(mapping_id)
    if mapping is None:
        # Someone deleted it meanwhile: what this request wanted has happened.
        flash("That saved mapping was already deleted.", "info")
        return redirect(url_for("intake.saved_mapping_list"))
    form = DeleteMappingForm()
    stale = False
    if form.validate_on_submit():
        name = mapping.name
        try:
            saved_mappings.delete_mapping(mapping, expected_version=form.version.data, user=_me())
        except ServiceError as error:
            stale = isinstance(error, StaleRecord)
            apply_service_error(form, error)
            mapping = _saved_mapping_or_404(mapping_id)
        else:
            flash(
                f"Deleted the saved mapping “{name}”. Imports that used it keep their copy.",
                "success",
            )
            return redirect(url_for("intake.saved_mapping_list"))
    rename_form = RenameMappingForm(
        formdata=None, data={"name": mapping.name, "version": str(mapping.version)}
    )
    return _saved_mapping_page(mapping, rename_form, form, stale=stale), form_status(form)
