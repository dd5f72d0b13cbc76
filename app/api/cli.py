"""`flask --app wsgi tokens create|list|revoke`: API tokens from the command line."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.api import tokens
from app.cli import in_transaction

tokens_cli = AppGroup("tokens", help="API tokens of integrations.")


@tokens_cli.command("create")
@click.option("--name", required=True, help="The integration, such as zendesk.")
@click.option("--scopes", required=True, help=f"Comma-separated, from {', '.join(tokens.SCOPES)}.")
@in_transaction("system:cli")
def create(name: str, scopes: str) -> None:
    """Create a token and print it: it is shown only now."""
    token, secret = tokens.create_token(name=name, scopes=scopes)
    click.echo(secret)
    click.echo(
        f"Token for {token.name} (scopes {token.scopes.replace(',', ', ')}) created; it is "
        "shown only this once.",
        err=True,
    )


@tokens_cli.command("list")
@in_transaction("system:cli")
def list_() -> None:
    """Name, scopes, status and last use of every token."""
    rows = tokens.list_tokens()
    if not rows:
        click.echo("No API tokens.")
    for token in rows:
        status = f"revoked {token.revoked_at:%Y-%m-%d %H:%M}" if token.revoked_at else "active"
        used = f"{token.last_used_at:%Y-%m-%d %H:%M} UTC" if token.last_used_at else "never"
        click.echo(f"{token.name}\t{token.prefix}…\t{token.scopes}\t{status}\tlast used {used}")


@tokens_cli.command("revoke")
@click.option("--name", required=True, help="The integration whose token to revoke.")
@in_transaction("system:cli")
def revoke(name: str) -> None:
    """Revoke the token of an integration: it stops working at once."""
    token = tokens.get_token_by_name(name)
    if token is None:
        raise click.ClickException(f"No token is named {name}.")
    tokens.revoke_token(token)
    click.echo(f"Revoked the token of {token.name}.")
