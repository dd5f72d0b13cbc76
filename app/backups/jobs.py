"""The nightly backup job: a backup into BACKUP_DIR, keeping the newest `keep` of them."""

from __future__ import annotations

from pathlib import Path

from flask import current_app

from app.backups.services import backup_name, create_backup, prune_backups
from app.scheduler.registry import JobContext, JobDefinition, JobSetting, register_job

JOB_NAME = "nightly-backup"


def _backup(context: JobContext) -> dict[str, int]:
    url = str(current_app.config["DATABASE_URL"])
    folder = Path(str(current_app.config["BACKUP_DIR"]))
    result = create_backup(url, folder / backup_name(url, context.as_of))
    deleted = prune_backups(folder, int(context.settings["keep"]))
    return {"bytes": result.size_bytes, "deleted": len(deleted)}


NIGHTLY_BACKUP = register_job(
    JobDefinition(
        name=JOB_NAME,
        title="Nightly backup",
        description=(
            "Backs the database up into BACKUP_DIR (SQLite online backup, or pg_dump custom "
            "format) and deletes the oldest of its backups beyond the number to keep. Check one "
            "now and then with `flask --app wsgi backup verify`."
        ),
        default_cron="30 2 * * *",
        run=_backup,
        settings=(
            JobSetting(
                "keep",
                "Backups to keep",
                7,
                1,
                365,
                help="The newest this many backups stay in BACKUP_DIR; older ones are deleted.",
            ),
        ),
    )
)
