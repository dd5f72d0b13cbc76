"""Which runs are really going: runs whose runner died are abandoned, so they neither show as
running forever nor hold the job back; runs that are going keep the job's next slot from starting.

A run records its runner as `host:pid`. A run is taken for dead when

- its runner is on this host and that process is gone (or is this very process, which is not
  running it: a restarted container often gets the same host name and pid back), at once; or
- it has been running for longer than `LOOP_SCHEDULER_STALE_MINUTES` (the runner's host may be
  lost, so nobody can look at its process).

Every scheduler looks on each tick (the first tick comes at start) and before each run. Marking is
one conditional UPDATE (`... WHERE status = 'running'`), so when several schedulers find the same
dead run, one marks it and the others change nothing.

Job runs are operational records, not controlled ones: they are not in the audit trail (neither
their claim nor their result is), so neither is their abandonment; the run keeps who and why.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from app.core.db import utcnow
from app.extensions import db
from app.scheduler.models import JobRun, JobRunStatus

log = logging.getLogger(__name__)
DEFAULT_STALE_MINUTES = 60

# The runs this process is working on now (scheduler thread and web requests alike).
_active_lock = threading.Lock()
_active_run_ids: set[int] = set()


def runner_id() -> str:
    """This process as runs record it: `host:pid`."""
    return f"{socket.gethostname()}:{os.getpid()}"[:200]


def started_here(run_id: int) -> None:
    """Note that this process works on the run (before its claim is committed)."""
    with _active_lock:
        _active_run_ids.add(run_id)


def finished_here(run_id: int) -> None:
    """Note that this process no longer works on the run."""
    with _active_lock:
        _active_run_ids.discard(run_id)


def stale_after() -> timedelta:
    """How long a run may stay running before it is taken for dead."""
    minutes = int(current_app.config.get("LOOP_SCHEDULER_STALE_MINUTES", DEFAULT_STALE_MINUTES))
    return timedelta(minutes=minutes)


def runner_is_gone(runner: str, run_id: int) -> bool:
    """True when the runner is a process of this host that is no longer working on the run.
    A runner on another host (or one that cannot be read) is never judged here."""
    host, _, pid_text = runner.rpartition(":")
    if os.name != "posix" or host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        with _active_lock:
            return run_id not in _active_run_ids
    try:
        os.kill(pid, 0)  # signal 0 sends nothing: it only asks whether the process exists
    except ProcessLookupError:
        return True
    except OSError:  # PermissionError: it exists, as another user's process
        return False
    return False


def abandon_dead_runs(job_name: str | None = None, now: datetime | None = None) -> list[int]:
    """Mark every running run whose runner is gone (see the module) as abandoned, with the
    reason as its error; only `job_name`'s runs when given. Returns the ids this call marked (a
    run another scheduler marked first is not among them). Commits."""
    now = now or utcnow()
    statement = select(JobRun.id, JobRun.runner, JobRun.started_at).where(
        JobRun.status == JobRunStatus.RUNNING
    )
    if job_name is not None:
        statement = statement.where(JobRun.job_name == job_name)
    marked = []
    for run_id, runner, started_at in db.session.execute(statement).all():
        reason = _reason_for(run_id, runner, started_at, now)
        if reason is None:
            continue
        result = db.session.execute(
            update(JobRun)
            .where(JobRun.id == run_id, JobRun.status == JobRunStatus.RUNNING)
            .values(status=JobRunStatus.ABANDONED, finished_at=now, error=reason)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            marked.append(run_id)
            log.warning("Job run %s abandoned: %s", run_id, reason)
            # Sessions keep objects across commits (expire_on_commit is off): one this session
            # holds must be read again, not shown as still running.
            held = db.session.identity_map.get(db.session.identity_key(JobRun, run_id))
            if held is not None:
                db.session.expire(held)
    db.session.commit()
    return marked


def _reason_for(run_id: int, runner: str, started_at: datetime, now: datetime) -> str | None:
    limit = stale_after()
    if now - started_at > limit:
        minutes = int(limit.total_seconds() // 60)
        return (
            f"The runner {runner} did not finish within {minutes} minutes"
            " (LOOP_SCHEDULER_STALE_MINUTES) and is taken to have stopped; the run was abandoned."
        )
    if runner_is_gone(runner, run_id):
        return f"The runner {runner} stopped before finishing; the run was abandoned."
    return None


def active_run(job_name: str, excluding: int | None = None) -> JobRun | None:
    """The job's earliest run that is still going (call `abandon_dead_runs` first so that dead
    runs do not count); `excluding` leaves out the caller's own run."""
    statement = select(JobRun).where(
        JobRun.job_name == job_name, JobRun.status == JobRunStatus.RUNNING
    )
    if excluding is not None:
        statement = statement.where(JobRun.id != excluding)
    return db.session.scalar(statement.order_by(JobRun.started_at, JobRun.id).limit(1))
