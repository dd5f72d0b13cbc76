"""Running one job for one slot: claim the slot in the database, do the work, record the result.

The claim is a committed `job_run` row; (job_name, scheduled_for) is unique, so when several
schedulers (processes, hosts) see the same slot, one insert wins and the others skip it. The work
runs in its own transaction, as `system:<job>` in the audit trail; a failure rolls the work back
and is recorded on the run (the next slot tries again).
"""

from __future__ import annotations

import json
import logging
import os
import smtplib
import socket
import traceback
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.accounts.models import User
from app.core.audit import acting_as
from app.core.db import utcnow
from app.extensions import db
from app.notifications.services import deliver_queued_mail, discard_queued_mail
from app.scheduler.models import JobRun, JobRunStatus, JobTrigger, ScheduledJob
from app.scheduler.registry import JobContext, JobDefinition, job_definition

log = logging.getLogger(__name__)
ERROR_MAX_LENGTH = 4000


def runner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:200]


def ensure_job_row(definition: JobDefinition) -> ScheduledJob:
    """The job's stored schedule and settings, created with the defaults the first time."""
    job = db.session.scalar(select(ScheduledJob).where(ScheduledJob.name == definition.name))
    if job is not None:
        return job
    try:
        with db.session.begin_nested():
            job = ScheduledJob(
                name=definition.name,
                cron=definition.default_cron,
                enabled=True,
                settings_json="{}",
                schedule_since=utcnow(),
            )
            with acting_as("system:scheduler"):
                db.session.add(job)
                db.session.flush()
    except IntegrityError:  # another scheduler created it at the same moment
        job = db.session.scalar(select(ScheduledJob).where(ScheduledJob.name == definition.name))
        assert job is not None
    return job


def claim_slot(
    name: str, scheduled_for: datetime, trigger: JobTrigger, requested_by: User | None = None
) -> JobRun | None:
    """Insert and commit the run that claims (name, scheduled_for); None if it was claimed."""
    db.session.commit()  # the claim must not carry anything else along
    run = JobRun(
        job_name=name,
        scheduled_for=scheduled_for,
        trigger=trigger,
        status=JobRunStatus.RUNNING,
        started_at=utcnow(),
        runner=runner_id(),
        requested_by_id=requested_by.id if requested_by is not None else None,
        counts_json="{}",
        error="",
    )
    db.session.add(run)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return None
    return run


def _error_text(error: BaseException) -> str:
    lines = traceback.format_exception(error)
    text = f"{type(error).__name__}: {error}\n\n" + "".join(lines[-6:])
    return text[:ERROR_MAX_LENGTH]


def _finish(run_id: int, status: JobRunStatus, counts: dict[str, int], error: str) -> JobRun:
    run = db.session.get(JobRun, run_id)
    assert run is not None
    run.status = status
    run.finished_at = utcnow()
    run.counts_json = json.dumps(counts, sort_keys=True)
    run.error = error
    db.session.commit()
    return run


def run_job(
    name: str,
    scheduled_for: datetime,
    trigger: JobTrigger = JobTrigger.SCHEDULE,
    requested_by: User | None = None,
) -> JobRun | None:
    """Claim the slot and run the job for it; returns the finished run, or None when another
    scheduler had claimed the slot already. Commits (the claim, the work, the result)."""
    definition = job_definition(name)
    job = ensure_job_row(definition)
    settings = definition.settings_with_defaults(job.settings)
    run = claim_slot(name, scheduled_for, trigger, requested_by)
    if run is None:
        return None
    context = JobContext(name=name, settings=settings, as_of=scheduled_for, run_id=run.id)
    try:
        with acting_as(definition.actor):
            counts = dict(definition.run(context))
            db.session.flush()
        db.session.commit()
    except Exception as error:
        db.session.rollback()
        discard_queued_mail(db.session)
        log.exception("Job %s (slot %s) failed", name, scheduled_for.isoformat())
        return _finish(run.id, JobRunStatus.FAILED, {}, _error_text(error))
    problem = ""
    try:
        counts["emails_sent"] = deliver_queued_mail(db.session)
    except (OSError, smtplib.SMTPException) as error:
        db.session.rollback()
        # The work is committed and the in-app notifications exist; only the e-mail failed.
        problem = f"E-mail could not be sent: {type(error).__name__}: {error}"
        log.warning("Job %s: %s", name, problem)
    return _finish(run.id, JobRunStatus.SUCCEEDED, counts, problem)


def run_now(name: str, user: User | None) -> JobRun:
    """Run a job at once ("Run now"), outside its schedule; the run records who asked."""
    run = run_job(name, utcnow(), JobTrigger.MANUAL, requested_by=user)
    assert run is not None  # a manual slot is "now": nobody else claims it
    return run
