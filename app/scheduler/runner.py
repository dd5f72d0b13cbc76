"""Running one job for one slot: claim the slot in the database, do the work, record the result.

The claim is a committed `job_run` row; (job_name, scheduled_for) is unique, so when several
schedulers (processes, hosts) see the same slot, one insert wins and the others skip it. The work
runs in its own transaction, as `system:<job>` in the audit trail; a failure rolls the work back
and is recorded on the run (the next slot tries again).

A job never runs twice at once: while one of its runs is going (see `liveness`), a scheduled slot
is recorded as skipped, with the reason, and "Run now" is refused.
"""

from __future__ import annotations

import json
import logging
import smtplib
import traceback
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.accounts.models import User
from app.core.audit import acting_as
from app.core.db import utcnow
from app.core.errors import ServiceError
from app.extensions import db
from app.notifications.services import deliver_queued_mail, discard_queued_mail
from app.scheduler.liveness import (
    abandon_dead_runs,
    active_run,
    finished_here,
    runner_id,
    started_here,
)
from app.scheduler.models import JobRun, JobRunStatus, JobTrigger, ScheduledJob
from app.scheduler.registry import JobContext, JobDefinition, job_definition

log = logging.getLogger(__name__)
ERROR_MAX_LENGTH = 4000


class JobAlreadyRunning(ServiceError):
    """A manual run was asked for while a run of the job is going; nothing was started."""


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
    name: str,
    scheduled_for: datetime,
    trigger: JobTrigger,
    requested_by: User | None = None,
    skipped_because: str = "",
) -> JobRun | None:
    """Insert and commit the run that claims (name, scheduled_for); None if it was claimed.
    With `skipped_because` the slot is claimed as skipped, with that reason, and not run."""
    db.session.commit()  # the claim must not carry anything else along
    now = utcnow()
    run = JobRun(
        job_name=name,
        scheduled_for=scheduled_for,
        trigger=trigger,
        status=JobRunStatus.SKIPPED if skipped_because else JobRunStatus.RUNNING,
        started_at=now,
        finished_at=now if skipped_because else None,
        runner=runner_id(),
        requested_by_id=requested_by.id if requested_by is not None else None,
        counts_json="{}",
        error=skipped_because,
    )
    db.session.add(run)
    try:
        db.session.flush()
        if not skipped_because:
            # Known as ours before anyone can see it: this process's own runs are never dead.
            started_here(run.id)
        db.session.commit()
    except IntegrityError:
        if run.id is not None:
            finished_here(run.id)
        db.session.rollback()
        return None
    return run


def _overlap_reason(busy: JobRun) -> str:
    return (
        f"Skipped: the run of {busy.scheduled_for:%Y-%m-%d %H:%M:%S} UTC"
        f" (started {busy.started_at:%Y-%m-%d %H:%M:%S} UTC on {busy.runner}) was still running."
    )


def _already_running(definition: JobDefinition, busy: JobRun) -> JobAlreadyRunning:
    return JobAlreadyRunning(
        f"{definition.title} is already running (started {busy.started_at:%Y-%m-%d %H:%M:%S} UTC"
        f" on {busy.runner}); wait for it to finish, then run it again if needed."
    )


def _error_text(error: BaseException) -> str:
    lines = traceback.format_exception(error)
    text = f"{type(error).__name__}: {error}\n\n" + "".join(lines[-6:])
    return text[:ERROR_MAX_LENGTH]


def _finish(run_id: int, status: JobRunStatus, counts: dict[str, int], error: str) -> JobRun:
    run = db.session.get(JobRun, run_id)
    assert run is not None
    # Even if another scheduler took this run for dead meanwhile (it outlived the stale limit),
    # the run did finish: its real result replaces the guess.
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
    options: dict[str, Any] | None = None,
) -> JobRun | None:
    """Claim the slot and run the job for it; returns the finished run, or None when another
    scheduler had claimed the slot already. While another run of the job is going, the slot is
    claimed as skipped (returned, not run), or, for a manual run, JobAlreadyRunning is raised.
    Commits (abandoned runs, the claim, the work, the result)."""
    definition = job_definition(name)
    job = ensure_job_row(definition)
    settings = definition.settings_with_defaults(job.settings)
    abandon_dead_runs(name)
    busy = active_run(name)
    if busy is not None:
        if trigger == JobTrigger.MANUAL:
            raise _already_running(definition, busy)
        log.warning("Job %s (slot %s) skipped: a run is going", name, scheduled_for.isoformat())
        return claim_slot(name, scheduled_for, trigger, requested_by, _overlap_reason(busy))
    run = claim_slot(name, scheduled_for, trigger, requested_by)
    if run is None:
        return None
    try:
        # Two schedulers may claim two slots of the job at once, each before the other's claim is
        # visible. Whoever commits second sees the first, so at least one steps back here (at
        # worst both do): never two runs at a time.
        busy = active_run(name, excluding=run.id)
        if busy is not None:
            skipped = _finish(run.id, JobRunStatus.SKIPPED, {}, _overlap_reason(busy))
            if trigger == JobTrigger.MANUAL:
                raise _already_running(definition, busy)
            return skipped
        return _work(definition, run.id, settings, scheduled_for, options or {})
    finally:
        finished_here(run.id)


def _work(
    definition: JobDefinition,
    run_id: int,
    settings: dict[str, Any],
    scheduled_for: datetime,
    options: dict[str, Any],
) -> JobRun:
    name = definition.name
    context = JobContext(
        name=name, settings=settings, as_of=scheduled_for, run_id=run_id, options=options
    )
    try:
        with acting_as(definition.actor):
            counts = dict(definition.run(context))
            db.session.flush()
        db.session.commit()
    except Exception as error:
        db.session.rollback()
        discard_queued_mail(db.session)
        log.exception("Job %s (slot %s) failed", name, scheduled_for.isoformat())
        return _finish(run_id, JobRunStatus.FAILED, {}, _error_text(error))
    problem = ""
    try:
        counts["emails_sent"] = deliver_queued_mail(db.session)
    except (OSError, smtplib.SMTPException) as error:
        db.session.rollback()
        # The work is committed and the in-app notifications exist; only the e-mail failed.
        problem = f"E-mail could not be sent: {type(error).__name__}: {error}"
        log.warning("Job %s: %s", name, problem)
    return _finish(run_id, JobRunStatus.SUCCEEDED, counts, problem)


def run_now(name: str, user: User | None, options: dict[str, Any] | None = None) -> JobRun:
    """Run a job at once ("Run now"), outside its schedule; the run records who asked. `options`
    reach the job as `JobContext.options` (checked by the caller). Raises JobAlreadyRunning
    (nothing started) while a run of the job is going."""
    run = run_job(name, utcnow(), JobTrigger.MANUAL, requested_by=user, options=options)
    assert run is not None  # a manual slot is "now": nobody else claims it
    return run
