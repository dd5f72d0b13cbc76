"""`flask --app wsgi metrics rebuild`: recompute the dashboard's daily rollups (app.metrics.rollup)
from the complaints and recovery actions."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.cli import in_transaction
from app.extensions import db
from app.metrics import rollup

metrics_cli = AppGroup("metrics", help="Dashboard figures.")


@metrics_cli.command("rebuild")
@in_transaction("system:cli")
def metrics_rebuild() -> None:
    """Recompute the daily rollups from the records (after restoring an old backup or editing
    the database by hand); every write through the app keeps them exact already."""
    result = rollup.rebuild(db.session.connection())
    click.echo(
        f"Rebuilt the dashboard rollups: {result.cells:,} cells; {result.corrected:,} "
        f"{'cell was' if result.corrected == 1 else 'cells were'} wrong before."
    )
