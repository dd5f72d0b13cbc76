"""Imports run as background tasks: a scheduler steps the import to its end, chunk by chunk
(one transaction each), while the job page shows the progress. The `/import/<id>/step` endpoint
still steps an import from a page that has it open (the two take turns on the job's row)."""

from __future__ import annotations

from app.extensions import db
from app.intake import services
from app.intake.models import ImportJob
from app.tasks import services as task_services
from app.tasks.models import BackgroundTask
from app.tasks.services import TaskContext, TaskKind, TaskResult

KIND = "import"


def _params(job: ImportJob) -> dict[str, int]:
    return {"job_id": job.id}


def run_in_background(job: ImportJob, user: object) -> BackgroundTask:
    """Queue the started import's steps as a background task (flushed; the request commits)."""
    return task_services.enqueue(
        KIND,
        _params(job),
        user,
        title=f"Import of {job.filename}",  # type: ignore[arg-type]
    )


def task_of(job: ImportJob) -> BackgroundTask | None:
    """The background task that runs the import, if it was started as one."""
    return task_services.latest_task(KIND, _params(job))


def _run_import(context: TaskContext) -> TaskResult:
    job_id = int(context.params["job_id"])
    rows = None
    while True:
        job = services.get_job(job_id, lock=True)
        if job is None:
            return TaskResult("The import was deleted before it finished.")
        if not job.running:
            break
        if rows is None:  # read the stored file once for all the steps
            rows = services.source_rows(job, services.job_mapping(job))
        services.run_step(job, rows=rows)
        label, position, total = job.status.label, job.position, job.total
        db.session.commit()
        context.progress(position, total, label)
    return TaskResult(job.message or job.status.label)


task_services.register_task_kind(TaskKind(KIND, "Complaint import", _run_import))
