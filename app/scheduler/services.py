"""The admin page's services: each job's schedule, settings and on/off switch, and its history."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.accounts.models import User
from app.core.db import utcnow
from app.core.errors import ServiceError
from app.core.pagination import Page, paginate
from app.core.permissions import Permission, role_can
from app.extensions import db
from app.scheduler.cron import parse_cron
from app.scheduler.engine import upcoming_slot
from app.scheduler.models import JobRun, ScheduledJob
from app.scheduler.registry import JobDefinition, job_definition, registered_jobs
from app.scheduler.runner import ensure_job_row, run_now
from app.scheduler.signals import RECURRENCE_REVIEW_JOB, checked_history_range


@dataclass(frozen=True)
class JobOverview:
    definition: JobDefinition
    job: ScheduledJob
    last_run: JobRun | None
    next_slot: datetime | None


def job_overviews() -> list[JobOverview]:
    """Every registered job with its stored schedule, last run and next slot."""
    rows = []
    for definition in registered_jobs():
        job = ensure_job_row(definition)
        last_run = db.session.scalar(
            select(JobRun)
            .where(JobRun.job_name == definition.name)
            .order_by(JobRun.started_at.desc(), JobRun.id.desc())
            .limit(1)
        )
        rows.append(JobOverview(definition, job, last_run, upcoming_slot(job)))
    return rows


def job_overview(name: str) -> JobOverview:
    definition = job_definition(name)
    return next(row for row in job_overviews() if row.definition.name == definition.name)


def run_history(name: str, number: int, per_page: int) -> Page[JobRun]:
    statement = (
        select(JobRun)
        .options(joinedload(JobRun.requested_by))
        .where(JobRun.job_name == name)
        .order_by(JobRun.started_at.desc(), JobRun.id.desc())
    )
    return paginate(db.session, statement, number, per_page)


def _require_manager(user: User) -> None:
    if not role_can(user.role, Permission.SCHEDULER_MANAGE):
        raise ServiceError("Only administrators change the scheduler.")


def update_job(
    name: str, *, cron: str, enabled: bool, settings: dict[str, Any], user: User
) -> ScheduledJob:
    """Change a job's schedule (cron, UTC), its on/off switch and its settings (each checked
    against the job's definition). A new schedule, or switching the job on, counts slots from
    now: it does not run for slots that passed while it was off or on another schedule."""
    _require_manager(user)
    definition = job_definition(name)
    job = ensure_job_row(definition)
    cron = " ".join((cron or "").split())
    parse_cron(cron)
    cleaned = {
        setting.name: setting.clean(settings.get(setting.name)) for setting in definition.settings
    }
    if cron != job.cron or (enabled and not job.enabled):
        job.schedule_since = utcnow()
    job.cron = cron
    job.enabled = enabled
    job.settings_json = json.dumps(cleaned, sort_keys=True)
    db.session.flush()
    return job


def run_job_now(name: str, user: User, options: dict[str, Any] | None = None) -> JobRun:
    """Run a job at once (administrators): the run is claimed, recorded and shown like any.
    `options` are what this one run is asked for (see `run_history_review`)."""
    _require_manager(user)
    job_definition(name)
    return run_now(name, user, options)


def run_history_review(
    user: User | None, first: date | None, last: date | None, today: date | None = None
) -> JobRun:
    """Run the recurring-failure review as of the day `last` (`first` empty), or as of the end
    of every week from `first` to `last` and of `last` itself: a newly imported history is then
    reviewed as the daily job would have reviewed it. The range is checked first
    (ServiceError for `review_from` / `review_to`; no run is started); the run is claimed,
    recorded and shown like any other. `user` None is the CLI."""
    if user is not None:
        _require_manager(user)
    first, last = checked_history_range(first, last, today)
    options = {"review_from": first.isoformat(), "review_to": last.isoformat()}
    return run_now(RECURRENCE_REVIEW_JOB, user, options)
