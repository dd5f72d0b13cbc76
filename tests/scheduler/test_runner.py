"""Slots and runs: the claim makes a slot run once, missed slots coalesce into one run, a failed
run is recorded (its work undone) and the next slot runs again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.core.audit import AuditEvent
from app.core.errors import ServiceError
from app.extensions import db
from app.notifications.models import Notification
from app.organisation.models import Site
from app.scheduler.cron import latest_slot, parse_cron
from app.scheduler.engine import due_slots, run_due_jobs
from app.scheduler.models import JobRun, JobRunStatus, JobTrigger, ScheduledJob
from app.scheduler.registry import JobDefinition, register_job, unregister_job
from app.scheduler.runner import ensure_job_row, run_job

T0 = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)


class Probe:
    """A job that records each call, optionally failing, and writes a site (audited)."""

    def __init__(self) -> None:
        self.calls: list[datetime] = []
        self.fail = False

    def __call__(self, context) -> dict[str, int]:
        self.calls.append(context.as_of)
        db.session.add(Site(code=f"P{len(self.calls)}", name=f"Probe site {len(self.calls)}"))
        db.session.flush()
        if self.fail:
            raise RuntimeError("the probe was told to fail")
        return {"calls": len(self.calls)}


@pytest.fixture()
def probe(session) -> Iterator[Probe]:
    probe = Probe()
    register_job(JobDefinition("test-probe", "Probe", "A test job.", "0 * * * *", probe))
    job = ensure_job_row(JobDefinition("test-probe", "Probe", "", "0 * * * *", probe))
    job.schedule_since = T0
    # Only the probe is scheduled in these tests.
    for other in db.session.scalars(select(ScheduledJob).where(ScheduledJob.name != "test-probe")):
        other.enabled = False
    db.session.commit()
    yield probe
    unregister_job("test-probe")


def runs() -> list[JobRun]:
    return list(
        db.session.scalars(
            select(JobRun).where(JobRun.job_name == "test-probe").order_by(JobRun.scheduled_for)
        )
    )


def test_latest_slot_coalesces_any_gap_into_the_last_slot() -> None:
    hourly = parse_cron("0 * * * *")
    assert latest_slot(hourly, T0, T0 + timedelta(minutes=59)) is None
    assert latest_slot(hourly, T0, T0 + timedelta(hours=10, minutes=30)) == T0 + timedelta(hours=10)
    assert latest_slot(hourly, T0, T0 + timedelta(days=400, minutes=1)) == T0 + timedelta(days=400)
    monthly = parse_cron("0 6 1 * *")
    assert latest_slot(monthly, T0, datetime(2026, 7, 15, tzinfo=UTC)) == datetime(
        2026, 7, 1, 6, tzinfo=UTC
    )
    every_second = parse_cron("* * * * * *")
    assert latest_slot(every_second, T0, T0 + timedelta(seconds=3, microseconds=5)) == (
        T0 + timedelta(seconds=3)
    )


@pytest.mark.parametrize("expression", ["", "0 5 * *", "61 * * * *", "0 5 * * funday"])
def test_invalid_schedules_are_refused(expression: str) -> None:
    with pytest.raises(ServiceError) as refused:
        parse_cron(expression)
    assert refused.value.field == "cron"


def test_a_slot_runs_once_however_often_it_is_claimed(probe) -> None:
    slot = T0 + timedelta(hours=1)
    first = run_job("test-probe", slot)
    second = run_job("test-probe", slot)
    assert first is not None and first.status == JobRunStatus.SUCCEEDED
    assert second is None
    assert probe.calls == [slot]
    (run,) = runs()
    assert run.counts == {"calls": 1, "emails_sent": 0}
    assert run.finished_at is not None and run.runner


def test_missed_slots_after_downtime_run_once_and_the_job_acts_as_system(probe) -> None:
    now = T0 + timedelta(hours=10, minutes=30)
    assert due_slots(now) == [("test-probe", T0 + timedelta(hours=10))]
    assert len(run_due_jobs(now)) == 1
    assert run_due_jobs(now) == []  # nothing left: the ten missed slots were one run
    assert probe.calls == [T0 + timedelta(hours=10)]
    actor = db.session.scalar(
        select(AuditEvent.actor).where(AuditEvent.record_type == "site").order_by(AuditEvent.id)
    )
    assert actor == "system:test-probe"
    assert run_due_jobs(T0 + timedelta(hours=11, seconds=1))[0].scheduled_for == T0 + timedelta(
        hours=11
    )


def test_a_failed_run_is_recorded_undone_and_retried_at_the_next_slot(probe) -> None:
    probe.fail = True
    (failed,) = run_due_jobs(T0 + timedelta(hours=1))
    assert failed.status == JobRunStatus.FAILED
    assert "RuntimeError: the probe was told to fail" in failed.error
    assert db.session.scalar(select(func.count()).select_from(Site)) == 0  # work rolled back
    assert run_due_jobs(T0 + timedelta(hours=1, minutes=30)) == []  # not retried in the slot
    probe.fail = False
    (retried,) = run_due_jobs(T0 + timedelta(hours=2))
    assert retried.status == JobRunStatus.SUCCEEDED
    assert [run.status for run in runs()] == [JobRunStatus.FAILED, JobRunStatus.SUCCEEDED]


def test_a_job_switched_off_does_not_run(probe) -> None:
    job = db.session.scalar(select(ScheduledJob).where(ScheduledJob.name == "test-probe"))
    job.enabled = False
    db.session.commit()
    assert run_due_jobs(T0 + timedelta(hours=5)) == []
    assert probe.calls == []


def test_manual_runs_do_not_take_scheduled_slots(probe) -> None:
    from app.scheduler.runner import run_now

    manual = run_now("test-probe", None)
    assert manual.trigger == JobTrigger.MANUAL
    assert len(run_due_jobs(T0 + timedelta(hours=1))) == 1
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 0


def test_the_readmes_job_table_lists_every_registered_job() -> None:
    # A job module left out of the registry never runs; a job left out of the table is unknown.
    import re
    from pathlib import Path

    from app.scheduler.registry import registered_jobs

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Scheduled reviews", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `([a-z-]+)` \|", section, re.M))
    assert {job.name for job in registered_jobs()} == listed
