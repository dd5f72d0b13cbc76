"""Three scheduler processes (the real `flask … scheduler run`) against one database: every slot
of an every-second job runs exactly once (or is skipped, while another process still runs the job).
On SQLite, and on PostgreSQL in the PostgreSQL run."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from itertools import pairwise

from sqlalchemy import select

from app import create_app
from app.core.db import utcnow
from app.extensions import db
from app.scheduler.models import JobRun, JobRunStatus, ScheduledJob
from app.scheduler.registry import JobDefinition, register_job, unregister_job
from app.scheduler.runner import ensure_job_row
from tests.processes import run_together

PROCESSES = 3
RUN_SECONDS = 6
TIMEOUT_SECONDS = 90


def _prepare(url: str) -> None:
    app = create_app({"DATABASE_URL": url})
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    register_job(JobDefinition("probe", "Probe", "", "* * * * * *", lambda context: {}))
    try:
        with app.app_context():
            from app.scheduler.registry import registered_jobs

            for definition in registered_jobs():
                job = ensure_job_row(definition)
                job.enabled = definition.name == "probe"
                job.schedule_since = utcnow()
            db.session.commit()
    finally:
        unregister_job("probe")
    app.extensions["loop_db"].engine.dispose()


def test_three_schedulers_run_every_slot_exactly_once(fresh_database_url, tmp_path):
    _prepare(fresh_database_url)
    probe_file = tmp_path / "probe.log"
    env = {
        "DATABASE_URL": fresh_database_url,
        "LOOP_INSTANCE_DIR": str(tmp_path),
        "LOOP_PROBE_FILE": str(probe_file),
    }
    flask = ["-m", "flask", "--app", "tests.scheduler.scheduler_app"]
    command = [*flask, "scheduler", "run", "--tick", "0.2", "--for", str(RUN_SECONDS)]
    outputs = run_together([command] * PROCESSES, env, timeout=TIMEOUT_SECONDS)

    lines = probe_file.read_text(encoding="ascii").split()
    slots = [datetime.fromisoformat(value) for value in lines[0::2]]
    pids = lines[1::2]
    duplicates = [slot for slot, times in Counter(slots).items() if times > 1]
    assert duplicates == [], "\n".join(outputs)
    # Every process was up for about RUN_SECONDS: several slots ran, and each one second apart.
    assert len(slots) >= 3, "\n".join(outputs)
    ordered = sorted(slots)
    assert all((b - a).total_seconds() >= 1 for a, b in pairwise(ordered))
    app = create_app({"DATABASE_URL": fresh_database_url})
    with app.app_context():
        runs = list(db.session.scalars(select(JobRun).where(JobRun.job_name == "probe")))
        # A slot that came while another process still ran the previous one is recorded as
        # skipped, not run; every other claimed slot ran once and succeeded.
        ran = [run for run in runs if run.status == JobRunStatus.SUCCEEDED]
        assert sorted(run.scheduled_for for run in ran) == ordered
        assert {run.status for run in runs} <= {JobRunStatus.SUCCEEDED, JobRunStatus.SKIPPED}
        assert {run.runner.split(":")[-1] for run in ran} == set(pids)
        assert db.session.scalar(select(ScheduledJob.enabled).where(ScheduledJob.name == "probe"))
    app.extensions["loop_db"].engine.dispose()
