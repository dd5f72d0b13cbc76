"""`flask --app wsgi import complaints FILE --mapping MAPPING.json [--date-format …]
[--skip-bad-rows]`: the browser import's steps, run from the command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from app.core.audit import acting_as
from app.core.errors import ServiceError
from app.extensions import db

import_cli = AppGroup("import", help="Import records from files.")


def _fail(message: str) -> None:
    db.session.rollback()
    raise click.ClickException(message)


@import_cli.command("complaints")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--mapping",
    "mapping_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The column mapping, a JSON file (format: docs/import.md).",
)
@click.option(
    "--date-format",
    "date_format",
    default=None,
    help="The format to prefer where a date reads two ways, e.g. %d/%m/%Y.",
)
@click.option(
    "--skip-bad-rows",
    is_flag=True,
    help="Import the good rows and list the rejected ones (default: all or nothing).",
)
def import_complaints(
    file: Path, mapping_path: Path, date_format: str | None, skip_bad_rows: bool
) -> None:
    """Import complaints from a CSV or XLSX FILE. All or nothing, unless --skip-bad-rows: then
    every rejected row is printed with its reason. Duplicates are skipped and counted."""
    from app.intake import services
    from app.intake.models import ImportMode, ImportStatus

    try:
        content = file.read_bytes()
    except OSError as error:
        _fail(f"Cannot read {file}: {error.strerror}.")
    try:
        definition = json.loads(mapping_path.read_text(encoding="utf-8"))
    except OSError as error:
        _fail(f"Cannot read {mapping_path}: {error.strerror}.")
    except json.JSONDecodeError as error:
        _fail(f"{mapping_path} is not valid JSON: {error.msg} (line {error.lineno}).")
    if date_format:
        if not isinstance(definition, dict):
            _fail(f"{mapping_path}: the mapping must be a JSON object.")
        definition["prefer_date_format"] = date_format
    mode = ImportMode.SKIP_BAD_ROWS if skip_bad_rows else ImportMode.ALL_OR_NOTHING
    try:
        with acting_as("system:cli-import"):
            job = services.create_job(file.name, content, user=None)
            services.set_mapping(job, definition, user=None)
            services.start_job(job, mode, user=None)
            with click.progressbar(
                length=job.total, label="Rows", file=sys.stderr, show_pos=True
            ) as bar:
                done = 0

                def advance(current: object) -> None:
                    nonlocal done
                    position = job.position if job.status is ImportStatus.IMPORTING else 0
                    if job.finished:
                        position = job.total
                    if position > done:
                        bar.update(position - done)
                        done = position

                services.run_to_end(job, progress=advance)
            if job.status is ImportStatus.FAILED:
                rejected = services.rejections(job)
                for rejection in rejected[:20]:
                    click.echo(f"  row {rejection.row_number}: {rejection.reason}", err=True)
                if len(rejected) > 20:
                    click.echo(f"  … and {len(rejected) - 20:,} more", err=True)
                _fail(job.message)
            for rejection in services.rejections(job):
                click.echo(f"  rejected row {rejection.row_number}: {rejection.reason}", err=True)
            for conflict in job.conflict_list[:20]:
                rows = ", ".join(str(number) for number in conflict["rows"])
                columns = ", ".join(conflict["columns"])
                click.echo(
                    f"  id {conflict['external_id']} on rows {rows} that differ in {columns}",
                    err=True,
                )
        db.session.commit()
    except ServiceError as error:
        _fail(error.message)
    click.echo(f"{job.filename}: {job.message} (import {job.id})")
