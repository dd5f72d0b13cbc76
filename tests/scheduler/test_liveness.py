"""Runs whose runner died are abandoned (and say so on the job's page); runs that are going are
left alone and keep the job from running twice at once: a slot that comes meanwhile is skipped
and shown, and "Run now" is refused with a message."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.core.db import utcnow
from app.extensions import db
from app.scheduler import liveness
from app.scheduler.engine import run_due_jobs
from app.scheduler.liveness import abandon_dead_runs, runner_id
from app.scheduler.models import JobRun, JobRunStatus, JobTrigger
from app.scheduler.registry import JobDefinition, register_job, unregister_job
from app.scheduler.runner import JobAlreadyRunning, run_job, run_now
from tests.conftest import is_postgres
from tests.scheduler.test_runner import T0, runs
from tests.scheduler.test_runner import probe as probe  # the fixture, shared

JOB = "overdue-reminders"
HOST = socket.gethostname()


def text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def running_run(
    job_name: str = JOB,
    runner: str = "other-host:4242",
    started_at: datetime | None = None,
    scheduled_for: datetime | None = None,
) -> JobRun:
    """A run that some scheduler claimed and has not finished (added to the session)."""
    started_at = started_at or utcnow()
    run = JobRun(
        job_name=job_name,
        scheduled_for=scheduled_for or started_at,
        trigger=JobTrigger.SCHEDULE,
        status=JobRunStatus.RUNNING,
        started_at=started_at,
        counts_json="{}",
        error="",
        runner=runner,
    )
    db.session.add(run)
    db.session.flush()
    return run


def exited_pid() -> int:
    """The pid of a process of this host that has ended (as a scheduler killed with -9 has)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.fixture()
def live_process() -> Iterator[int]:
    """A process of this host that is alive for the whole test (it waits on its stdin)."""
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    try:
        yield child.pid
    finally:
        child.stdin.close()  # type: ignore[union-attr]
        child.wait()


# --- dead runs are abandoned --------------------------------------------------------------------


def test_a_run_older_than_the_stale_limit_is_abandoned_and_the_page_says_why(
    client, login, committed
):
    stale = committed(lambda: running_run(started_at=utcnow() - timedelta(minutes=61)).id)
    recent = committed(lambda: running_run(started_at=utcnow() - timedelta(minutes=59)).id)
    assert committed(abandon_dead_runs) == [stale]

    login("quality_lead")
    page = text(client.get(f"/admin/scheduler/{JOB}"))
    history = page.split('data-testid="run-history"')[1]
    assert "Abandoned" in history
    assert (
        "The runner other-host:4242 did not finish within 60 minutes (LOOP_SCHEDULER_STALE_MINUTES)"
        " and is taken to have stopped; the run was abandoned." in history
    )
    statuses = committed(
        lambda: dict(db.session.execute(select(JobRun.id, JobRun.status)).tuples().all())
    )
    assert statuses[stale] == JobRunStatus.ABANDONED
    assert statuses[recent] == JobRunStatus.RUNNING  # on another host and young: left alone


def test_the_stale_limit_is_a_setting(session, app, monkeypatch):
    monkeypatch.setitem(app.config, "LOOP_SCHEDULER_STALE_MINUTES", 5)
    run = running_run(started_at=utcnow() - timedelta(minutes=6))
    assert abandon_dead_runs() == [run.id]
    assert "did not finish within 5 minutes" in run.error
    assert run.finished_at is not None


def test_a_run_whose_process_is_gone_from_this_host_is_abandoned_at_once(session):
    runner = f"{HOST}:{exited_pid()}"
    run = running_run(runner=runner)  # started a moment ago: far from the stale limit
    assert abandon_dead_runs() == [run.id]
    assert run.status == JobRunStatus.ABANDONED
    assert run.error == f"The runner {runner} stopped before finishing; the run was abandoned."


def test_a_live_run_on_this_host_is_left_running(session, live_process):
    run = running_run(runner=f"{HOST}:{live_process}")
    assert abandon_dead_runs() == []
    assert run.status == JobRunStatus.RUNNING and run.finished_at is None


def test_this_process_abandons_what_an_earlier_process_with_its_pid_left(session):
    # A restarted container gets the same host name and pid back: the run is not this process's.
    leftover = running_run(runner=runner_id())
    assert abandon_dead_runs() == [leftover.id]


def test_this_process_never_abandons_the_run_it_is_working_on(session):
    seen = []

    def look_while_running(context) -> dict[str, int]:
        seen.append(liveness.runner_is_gone(runner_id(), context.run_id))
        return {}

    register_job(JobDefinition("test-look", "Look", "", "0 * * * *", look_while_running))
    try:
        assert run_job("test-look", T0).status == JobRunStatus.SUCCEEDED
    finally:
        unregister_job("test-look")
    assert seen == [False]


def test_a_dead_run_does_not_hold_the_next_slot_back(probe):
    dead = running_run("test-probe", started_at=utcnow() - timedelta(hours=2), scheduled_for=T0)
    (ran,) = run_due_jobs(T0 + timedelta(hours=1))
    assert ran.status == JobRunStatus.SUCCEEDED
    assert probe.calls == [T0 + timedelta(hours=1)]
    assert dead.status == JobRunStatus.ABANDONED


def _stale_runs(count: int) -> list[int]:
    started = utcnow() - timedelta(hours=3)
    return [
        running_run(f"job-{number}", started_at=started, runner=f"lost-host:{number}").id
        for number in range(count)
    ]


def test_two_schedulers_marking_at_once_mark_each_dead_run_once(databases):
    app = databases.new_migrated_app()
    with app.app_context():
        stale = _stale_runs(20)
        db.session.commit()
    start = threading.Barrier(2)
    marked: list[list[int]] = []
    errors: list[BaseException] = []

    def scheduler() -> None:
        try:
            with app.app_context():
                start.wait()
                marked.append(abandon_dead_runs())
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    first, second = marked
    assert sorted(first + second) == stale  # every dead run marked, by exactly one of them
    with app.app_context():
        rows = db.session.execute(select(JobRun.status, func.count()).group_by(JobRun.status))
        assert dict(rows.tuples().all()) == {JobRunStatus.ABANDONED: 20}
    app.extensions["loop_db"].engine.dispose()


@pytest.mark.skipif(
    not is_postgres(), reason="SQLite serialises the read and the marking (BEGIN IMMEDIATE)"
)
def test_a_run_marked_after_another_scheduler_read_it_is_left_as_marked(databases, monkeypatch):
    app = databases.new_migrated_app()
    with app.app_context():
        (stale,) = _stale_runs(1)
        db.session.commit()
    original = liveness._reason_for
    first_marks: list[list[int]] = []

    def other_scheduler_marks_first(*args):
        # This scheduler has read the run as running; another one marks it before this one does.
        if not first_marks:
            done = threading.Thread(
                target=lambda: first_marks.append(_mark_in_own_context(app, original))
            )
            done.start()
            done.join()
        return "a second reason that must not overwrite the first"

    monkeypatch.setattr(liveness, "_reason_for", other_scheduler_marks_first)
    with app.app_context():
        assert abandon_dead_runs() == []  # the conditional UPDATE found it no longer running
    assert first_marks == [[stale]]
    with app.app_context():
        run = db.session.get(JobRun, stale)
        assert run.status == JobRunStatus.ABANDONED
        assert run.error.startswith("The runner lost-host:0 did not finish")
    app.extensions["loop_db"].engine.dispose()


def _mark_in_own_context(app, reason_for) -> list[int]:
    with app.app_context():
        patched = liveness._reason_for
        liveness._reason_for = reason_for
        try:
            return abandon_dead_runs()
        finally:
            liveness._reason_for = patched


# --- a job never runs twice at once -------------------------------------------------------------


def test_a_slot_that_comes_while_the_job_runs_is_skipped_and_recorded(probe):
    going = running_run("test-probe", scheduled_for=T0)
    (skipped,) = run_due_jobs(T0 + timedelta(hours=1))
    assert probe.calls == []
    assert skipped.status == JobRunStatus.SKIPPED
    assert skipped.scheduled_for == T0 + timedelta(hours=1)
    assert "was still running" in skipped.error and "other-host:4242" in skipped.error
    assert run_due_jobs(T0 + timedelta(hours=1, minutes=30)) == []  # the slot is spent
    going.status = JobRunStatus.SUCCEEDED
    db.session.commit()
    (ran,) = run_due_jobs(T0 + timedelta(hours=2))
    assert ran.status == JobRunStatus.SUCCEEDED and probe.calls == [T0 + timedelta(hours=2)]


def test_run_now_while_the_job_runs_starts_nothing(probe):
    running_run("test-probe")
    with pytest.raises(JobAlreadyRunning) as refused:
        run_now("test-probe", None)
    assert "Probe is already running" in refused.value.message
    assert probe.calls == [] and len(runs()) == 1


def test_the_job_page_shows_a_skipped_slot_with_its_reason(client, login, committed):
    committed(lambda: running_run(scheduled_for=utcnow() - timedelta(hours=1)))
    slot = utcnow().replace(microsecond=0)
    skipped = committed(lambda: run_job(JOB, slot))
    assert skipped.status == JobRunStatus.SKIPPED

    login("quality_lead")
    history = text(client.get(f"/admin/scheduler/{JOB}")).split('data-testid="run-history"')[1]
    assert "Skipped" in history
    assert "was still running." in history and "other-host:4242" in history


def test_run_now_while_the_job_runs_flashes_a_message(client, login, committed, count):
    committed(lambda: running_run())
    login("admin")
    response = client.post(f"/admin/scheduler/{JOB}/run", data={"confirm": "run"})
    assert response.status_code == 302
    page = text(client.get(f"/admin/scheduler/{JOB}"))
    assert "Overdue reminders is already running (started " in page
    assert "on other-host:4242); wait for it to finish" in page
    assert count(JobRun) == 1  # nothing else was started or recorded
