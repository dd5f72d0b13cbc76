"""The scheduler loop: APScheduler ticks, and each tick runs the jobs whose slot has come.

Every scheduler (the embedded one in `flask run`, or `flask --app wsgi scheduler run`, on any
number of hosts) does the same on each tick: for each enabled job, find the latest cron slot after
the last scheduled run and at or before now, and try to claim it (see `runner`). The schedules,
settings and on/off switches are read from the database on every tick, so a change on the admin
page reaches every scheduler without a restart. After downtime the missed slots coalesce into one
run, the latest. Each tick first abandons the runs whose runner died (see `liveness`); the first
tick comes as the scheduler starts, so a restarted scheduler clears what its predecessor left.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from datetime import datetime

import click
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask
from sqlalchemy import func, select

from app.core.db import utcnow
from app.core.errors import ServiceError
from app.extensions import db
from app.scheduler.cron import latest_slot, next_slot, parse_cron
from app.scheduler.liveness import abandon_dead_runs
from app.scheduler.models import JobRun, JobTrigger, ScheduledJob
from app.scheduler.registry import registered_jobs
from app.scheduler.runner import ensure_job_row, run_job

log = logging.getLogger(__name__)
DEFAULT_TICK_SECONDS = 15.0


def last_scheduled_slots() -> dict[str, datetime]:
    """Each job's latest claimed scheduled slot (manual runs do not count)."""
    rows = db.session.execute(
        # max() keeps the column's type, so the values come back UTC-aware like the column's.
        select(JobRun.job_name, func.max(JobRun.scheduled_for))
        .where(JobRun.trigger == JobTrigger.SCHEDULE)
        .group_by(JobRun.job_name)
    ).all()
    return {name: value for name, value in rows if value is not None}


def due_slots(now: datetime | None = None) -> list[tuple[str, datetime]]:
    """(job, slot) pairs due now: each enabled job's latest slot in (last run, now]."""
    now = now or utcnow()
    last = last_scheduled_slots()
    due = []
    for definition in registered_jobs():
        job = ensure_job_row(definition)
        if not job.enabled:
            continue
        try:
            trigger = parse_cron(job.cron)
        except ServiceError:
            log.error("Job %s has an invalid schedule %r: not run", job.name, job.cron)
            continue
        after = max(job.schedule_since, last.get(job.name, job.schedule_since))
        slot = latest_slot(trigger, after, now)
        if slot is not None:
            due.append((job.name, slot))
    db.session.commit()
    return due


def upcoming_slot(job: ScheduledJob, now: datetime | None = None) -> datetime | None:
    """When the job runs next (for the admin page); None when it is off or its cron is invalid."""
    if not job.enabled:
        return None
    try:
        return next_slot(parse_cron(job.cron), now or utcnow())
    except ServiceError:
        return None


def run_due_jobs(now: datetime | None = None) -> list[JobRun]:
    """Abandon the runs whose runner died, then run every job whose slot has come (the ones
    this scheduler wins the claim for; a slot that comes while the job still runs is skipped)."""
    abandon_dead_runs()
    runs = []
    for name, slot in due_slots(now):
        run = run_job(name, slot, JobTrigger.SCHEDULE)
        if run is not None:
            runs.append(run)
    return runs


def tick(app: Flask) -> None:
    with app.app_context():
        try:
            run_due_jobs()
        except Exception:  # a broken tick must not stop the scheduler; the next one tries again
            log.exception("Scheduler tick failed")
            db.session.rollback()


def task_tick(app: Flask) -> None:
    """Run the background tasks pages queued (see app.tasks), one after another."""
    from app.tasks.services import run_due_tasks

    with app.app_context():
        try:
            run_due_tasks()
        except Exception:  # a broken tick must not stop the scheduler; the next one tries again
            log.exception("Background task tick failed")
            db.session.rollback()


def build_scheduler(app: Flask, tick_seconds: float) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone="UTC")
    # Its own, shorter tick: a user waits on the page for a task to start.
    scheduler.add_job(
        task_tick,
        IntervalTrigger(seconds=float(app.config.get("LOOP_TASK_POLL_SECONDS", 2)), timezone="UTC"),
        args=[app],
        id="loop-task-tick",
        coalesce=True,
        max_instances=1,
        next_run_time=utcnow(),
        misfire_grace_time=None,
    )
    scheduler.add_job(
        tick,
        IntervalTrigger(seconds=tick_seconds, timezone="UTC"),
        args=[app],
        id="loop-scheduler-tick",
        coalesce=True,
        max_instances=1,
        next_run_time=utcnow(),
        misfire_grace_time=None,
    )
    return scheduler


def run_scheduler(
    app: Flask,
    tick_seconds: float = DEFAULT_TICK_SECONDS,
    run_for: float | None = None,
    stop: threading.Event | None = None,
    echo: Callable[[str], None] = click.echo,
) -> None:
    """Run the scheduler in this process until interrupted, `stop` is set, or `run_for` seconds."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        # systemd and container runtimes stop with SIGTERM: finish the running job, then exit.
        signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    scheduler = build_scheduler(app, tick_seconds)
    scheduler.start()
    echo(f"Scheduler running (tick every {tick_seconds:g} s); Ctrl+C stops it.")
    deadline = None if run_for is None else time.monotonic() + run_for
    try:
        while not stop.is_set():
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                break
            stop.wait(1.0 if remaining is None else min(1.0, remaining))
    except KeyboardInterrupt:
        pass
    finally:
        scheduler.shutdown(wait=True)
        echo("Scheduler stopped.")


# --- the embedded scheduler --------------------------------------------------------------------


def should_embed(app: Flask) -> bool:
    """Embedded only in the process that serves `flask run` (the reloader's child when it
    reloads), with LOOP_SCHEDULER=embedded, never in tests or other CLI commands."""
    if app.config.get("LOOP_SCHEDULER") != "embedded" or app.config.get("TESTING"):
        return False
    context = click.get_current_context(silent=True)
    # `flask run` itself: a top-level "run", not `flask scheduler run` or any other command.
    if context is None or context.info_name != "run" or context.parent is None:
        return False
    if context.parent.parent is not None:
        return False
    from flask.helpers import get_debug_flag
    from werkzeug.serving import is_running_from_reloader

    reload = context.params.get("reload")
    if reload is None:
        reload = get_debug_flag()
    return is_running_from_reloader() if reload else True


def start_embedded(app: Flask, tick_seconds: float | None = None) -> BackgroundScheduler:
    """Start the scheduler in a background thread of this (web) process."""
    seconds = tick_seconds or float(app.config.get("LOOP_SCHEDULER_TICK_SECONDS", 15))
    scheduler = build_scheduler(app, seconds)
    scheduler.start()
    import atexit

    atexit.register(lambda: scheduler.running and scheduler.shutdown(wait=False))
    app.extensions["loop_scheduler"] = scheduler
    return scheduler
