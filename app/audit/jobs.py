"""The scheduler job that signs a checkpoint of the audit chain's head (app.audit.checkpoints)."""

from __future__ import annotations

import logging

from app.audit.checkpoints import create_checkpoint
from app.extensions import db
from app.scheduler.registry import JobContext, JobDefinition, register_job

JOB_NAME = "audit-checkpoint"
log = logging.getLogger(__name__)


def _checkpoint(context: JobContext) -> dict[str, int]:
    created = create_checkpoint(db.session)
    emailed = any(target.startswith("e-mail") for target in created.published)
    if created.mail_problem:
        log.warning("Job %s: %s", JOB_NAME, created.mail_problem)
    return {
        "checkpoint": created.row.id,
        "events": created.checkpoint.event_count,
        "emailed": int(emailed and not created.mail_problem),
    }


AUDIT_CHECKPOINT = register_job(
    JobDefinition(
        name=JOB_NAME,
        title="Audit-trail checkpoint",
        description=(
            "Signs the audit chain's head (event count, head hash, time) with the Ed25519 key of "
            "AUDIT_SIGNING_KEY_FILE, stores the checkpoint and publishes it to "
            "AUDIT_CHECKPOINT_PUBLISH (and AUDIT_CHECKPOINT_EMAIL): a later truncation or "
            "rewrite of what it covers is detected by `audit verify`."
        ),
        default_cron="0 * * * *",
        run=_checkpoint,
    )
)
