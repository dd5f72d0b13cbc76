"""The app for the multi-process test: the real app plus a probe job, for
`flask --app tests.scheduler.scheduler_app scheduler run` (the real command).

The probe appends "<slot> <pid>" to the file named by LOOP_PROBE_FILE each time it runs, outside
the database, so the test sees every execution, not only the claims."""

from __future__ import annotations

import os
import time

from app import create_app
from app.scheduler.registry import JobContext, JobDefinition, register_job

PROBE = "probe"


def probe(context: JobContext) -> dict[str, int]:
    time.sleep(0.05)  # widen the window in which two schedulers could both think a slot is theirs
    with open(os.environ["LOOP_PROBE_FILE"], "a", encoding="ascii") as out:
        out.write(f"{context.as_of.isoformat()} {os.getpid()}\n")
    return {"written": 1}


register_job(JobDefinition(PROBE, "Probe", "Writes one line per run.", "* * * * * *", probe))
app = create_app()
