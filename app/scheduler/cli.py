"""`flask --app wsgi scheduler …`: run the scheduler as its own process, or one job at once."""

from __future__ import annotations

from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup

from app.scheduler.engine import run_scheduler, upcoming_slot
from app.scheduler.models import JobRunStatus

scheduler_cli = AppGroup("scheduler", help="Scheduled reviews and reminders.")


@scheduler_cli.command("run")
@click.option(
    "--tick",
    type=click.FloatRange(min=0.05),
    default=None,
    help="Seconds between checks for due jobs (default LOOP_SCHEDULER_TICK_SECONDS).",
)
@click.option(
    "--for",
    "run_for",
    type=click.FloatRange(min=0),
    default=None,
    help="Stop after this many seconds (default: run until stopped).",
)
def scheduler_run(tick: float | None, run_for: float | None) -> None:
    """Run the scheduler in this process (production: one or more of these, web workers with
    LOOP_SCHEDULER=off). Each job runs once per scheduled time however many run."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    seconds = tick or float(app.config.get("LOOP_SCHEDULER_TICK_SECONDS", 15))
    run_scheduler(app, seconds, run_for)


@scheduler_cli.command("run-job")
@click.argument("name")
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="recurring-failure-review only: review as of the end of this day (YYYY-MM-DD), "
    "e.g. over an imported history; with --from, the last day of a range.",
)
@click.option(
    "--from",
    "review_from",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="recurring-failure-review only: review as of the end of every week from this day to "
    "--as-of, and of --as-of itself.",
)
def scheduler_run_job(name: str, as_of: Any, review_from: Any) -> None:
    """Run job NAME once now (like "Run now" on the admin page)."""
    from app.core.errors import ServiceError
    from app.scheduler.runner import run_now
    from app.scheduler.services import run_history_review
    from app.scheduler.signals import RECURRENCE_REVIEW_JOB

    try:
        if as_of is None and review_from is None:
            run = run_now(name, None)
        elif name != RECURRENCE_REVIEW_JOB:
            raise click.ClickException(
                f"--as-of and --from apply to {RECURRENCE_REVIEW_JOB} only, not to {name}."
            )
        else:
            run = run_history_review(
                None,
                review_from.date() if review_from else None,
                as_of.date() if as_of else None,
            )
    except ServiceError as error:  # no such job, a bad range, or a run of it is still going
        raise click.ClickException(error.message) from None
    counts = ", ".join(f"{key} {value}" for key, value in run.counts.items())
    if run.status != JobRunStatus.SUCCEEDED:
        raise click.ClickException(f"{name} failed: {run.error.splitlines()[0]}")
    click.echo(f"{name}: {run.status.value} in {run.seconds or 0:.2f} s ({counts}).")


@scheduler_cli.command("list")
def scheduler_list() -> None:
    """The jobs, their schedules and their next runs."""
    from app.extensions import db
    from app.scheduler.services import job_overviews

    for row in job_overviews():
        state = "on " if row.job.enabled else "off"
        next_run = upcoming_slot(row.job)
        when = next_run.strftime("%Y-%m-%d %H:%M:%S UTC") if next_run else "—"
        click.echo(f"{row.definition.name:<32} {state} {row.job.cron:<16} next {when}")
    db.session.commit()
