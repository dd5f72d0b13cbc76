"""The periodic-review reminder, a scheduler job (claimed once per slot like every other)."""

from __future__ import annotations

from app.documents.reading import send_review_reminders
from app.scheduler.registry import JobContext, JobDefinition, register_job

JOB_NAME = "document-review-reminders"


def _remind(context: JobContext) -> dict[str, int]:
    return send_review_reminders(context.as_of)


DOCUMENT_REVIEW_REMINDERS = register_job(
    JobDefinition(
        name=JOB_NAME,
        title="Document review reminders",
        description=(
            "Tells the owner of each controlled document in force whose periodic review is due "
            "(in the app and by e-mail), once per review due date."
        ),
        default_cron="0 7 * * *",
        run=_remind,
    )
)
