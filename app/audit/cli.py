"""`flask --app wsgi audit ...`: verify the trail (against checkpoints), take a checkpoint, export
checkpoints, print the public key, generate a signing key."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app

from app.audit import checkpoints
from app.cli import audit_cli, in_transaction
from app.core.db import read_only_connection
from app.core.errors import ServiceError
from app.extensions import db


def verify_database(
    checkpoint_file: Path | None = None, public_key_file: Path | None = None
) -> checkpoints.TrailVerification:
    """The chain and its checkpoints (the stored ones, or those of `checkpoint_file`)."""
    public_key = checkpoints.trusted_public_key(current_app.config, public_key_file)
    listed = checkpoints.read_checkpoint_file(checkpoint_file) if checkpoint_file else None
    with read_only_connection(db.engine()) as connection:
        return checkpoints.verify_trail(connection, public_key, listed)


@audit_cli.command("verify")
@click.option(
    "--checkpoints",
    "checkpoint_file",
    type=click.Path(path_type=Path),
    help="Check against the checkpoints of this exported file (or published directory) instead "
    "of those stored in the database.",
)
@click.option(
    "--public-key",
    "public_key_file",
    type=click.Path(path_type=Path),
    help="The PEM public key the checkpoints must be signed with (default: AUDIT_PUBLIC_KEY_FILE, "
    "or the signing key's own).",
)
def audit_verify(checkpoint_file: Path | None, public_key_file: Path | None) -> None:
    """Recompute the hash chain and check it against the signed checkpoints; exit 1 naming what
    happened (a broken link, truncation, a rewrite, a bad signature) if it does not hold."""
    try:
        result = verify_database(checkpoint_file, public_key_file)
    except ServiceError as error:
        raise click.ClickException(error.message) from None
    for line in result.lines():
        click.echo(line)
    if not result.ok:
        sys.exit(1)


@audit_cli.command("checkpoint")
@in_transaction("system:cli")
def audit_checkpoint() -> None:
    """Sign the chain's head now, store the checkpoint and publish it (file, e-mail)."""
    created = checkpoints.create_checkpoint(db.session)
    checkpoint = created.checkpoint
    where = f"; published to {', '.join(created.published)}" if created.published else ""
    click.echo(
        f"Checkpoint {checkpoint.number}: {checkpoint.event_count} events, head "
        f"{checkpoint.head_hash}, signed by key {checkpoint.key_id}{where}."
    )
    if created.mail_problem:
        click.echo(created.mail_problem, err=True)


@audit_cli.command("export-checkpoints")
@click.argument("path", type=click.Path(path_type=Path), required=False)
def audit_export_checkpoints(path: Path | None) -> None:
    """Write every stored checkpoint, one JSON line each, to PATH (default: standard output)."""
    with read_only_connection(db.engine()) as connection:
        text = checkpoints.export_checkpoints(connection)
    if path is None:
        click.echo(text, nl=False)
        return
    path.write_text(text)
    click.echo(f"Wrote {text.count(chr(10))} checkpoints to {path}.", err=True)


@audit_cli.command("public-key")
def audit_public_key() -> None:
    """Print the public key (PEM) that verifies the checkpoints: give it to the auditor."""
    try:
        key = checkpoints.trusted_public_key(current_app.config)
    except ServiceError as error:
        raise click.ClickException(error.message) from None
    click.echo(checkpoints.public_key_pem(key), nl=False)


@audit_cli.command("generate-key")
@click.argument("path", type=click.Path(path_type=Path))
def audit_generate_key(path: Path) -> None:
    """Create a new Ed25519 signing key at PATH (never overwrites); point AUDIT_SIGNING_KEY_FILE
    at it."""
    try:
        key = checkpoints.generate_key_file(path)
    except (ServiceError, OSError) as error:
        message = error.message if isinstance(error, ServiceError) else str(error)
        raise click.ClickException(message) from None
    click.echo(f"Signing key {checkpoints.key_id(key.public_key())} written to {path}.")
