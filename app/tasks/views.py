"""The pages of background tasks: one task's progress and file, and the user's latest tasks."""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.core.permissions import Permission, requires
from app.tasks import services
from app.tasks.models import BackgroundTask

blueprint = Blueprint("tasks", __name__, template_folder="templates")


def _mine_or_404(task_id: int) -> BackgroundTask:
    task = services.task_for(task_id, current_user)
    if task is None:
        abort(404)
    return task


def redirect_to(task: BackgroundTask) -> Response:
    """Send the user to the page of the task their request just queued."""
    return redirect(url_for("tasks.task_page", task_id=task.id))


@blueprint.route("/tasks")
@requires(Permission.RECORDS_VIEW)
def task_list() -> str:
    return render_template("tasks/task_list.html", tasks=services.tasks_of(current_user))


@blueprint.route("/tasks/<int:task_id>")
@requires(Permission.RECORDS_VIEW)
def task_page(task_id: int) -> str:
    return render_template("tasks/task.html", task=_mine_or_404(task_id))


@blueprint.route("/tasks/<int:task_id>/status")
@requires(Permission.RECORDS_VIEW)
def task_status(task_id: int) -> Response:
    return jsonify(services.status_of(_mine_or_404(task_id)))


@blueprint.route("/tasks/<int:task_id>/download")
@requires(Permission.RECORDS_VIEW)
def task_download(task_id: int) -> Response:
    task = _mine_or_404(task_id)
    if task.result is None:
        abort(404)
    response = Response(task.result, mimetype=task.result_mimetype or "application/octet-stream")
    response.headers["Content-Disposition"] = f'attachment; filename="{task.result_filename}"'
    return response
