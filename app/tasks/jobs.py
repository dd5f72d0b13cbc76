"""The job that deletes background tasks' files once their keeping time is over."""

from __future__ import annotations

from app.scheduler.registry import JobContext, JobDefinition, register_job
from app.tasks.services import purge_expired


def purge_task_results(context: JobContext) -> dict[str, int]:
    return {"tasks_purged": purge_expired(context.as_of)}


register_job(
    JobDefinition(
        name="purge-task-results",
        title="Purge background-task results",
        description=(
            "Deletes finished background tasks, with their files, TASK_RESULT_HOURS after they "
            "finished."
        ),
        default_cron="*/15 * * * *",
        run=purge_task_results,
    )
)
