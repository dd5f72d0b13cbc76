"""`flask --app wsgi backup create|verify|restore PATH`: see app.backups.services and
docs/operations.md ("Backups")."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.backups import services
from app.core.errors import ServiceError
from app.extensions import db

backup_cli = AppGroup("backup", help="Database backups: create, verify, restore.")


def _fail(error: ServiceError) -> click.ClickException:
    return click.ClickException(error.message)


@backup_cli.command("create")
@click.argument("path", type=click.Path(path_type=Path))
def backup_create(path: Path) -> None:
    """Back the database up to PATH (SQLite online backup, or pg_dump custom format); safe while
    the app writes."""
    try:
        result = services.create_backup(str(current_app.config["DATABASE_URL"]), path)
    except ServiceError as error:
        raise _fail(error) from None
    click.echo(f"Backup written to {result.path} ({result.kind}, {result.size_bytes:,} bytes).")


@backup_cli.command("verify")
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--checkpoints",
    "checkpoint_file",
    type=click.Path(path_type=Path),
    help="Check the restored trail against this exported or published checkpoint file instead of "
    "the checkpoints inside the backup.",
)
@click.option(
    "--public-key",
    "public_key_file",
    type=click.Path(path_type=Path),
    help="The PEM public key the checkpoints must be signed with.",
)
def backup_verify(path: Path, checkpoint_file: Path | None, public_key_file: Path | None) -> None:
    """Restore PATH into a temporary database, run the integrity check and the audit verification
    (with checkpoints), print counts; exit 1 if anything fails."""
    try:
        result = services.verify_backup(
            path,
            str(current_app.config["DATABASE_URL"]),
            current_app.config,
            checkpoint_file,
            public_key_file,
        )
    except ServiceError as error:
        raise _fail(error) from None
    for line in result.lines():
        click.echo(line)
    if not result.ok:
        sys.exit(1)


@backup_cli.command("restore")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that holds data.")
def backup_restore(path: Path, force: bool) -> None:
    """Replace the database with the backup at PATH (stop the app and scheduler first). Refuses a
    database that holds data without --force."""
    url = str(current_app.config["DATABASE_URL"])
    try:
        db.session.remove()
        kind = services.restore_backup(path, url, db.engine(), force=force)
    except ServiceError as error:
        raise _fail(error) from None
    click.echo(
        f"Restored {path} ({kind}). Run `flask --app wsgi audit verify` and compare the latest "
        "checkpoint with the published copy."
    )
