"""store complaint durations in seconds

The time to first response and the time to resolution of every complaint, in whole seconds
(rounded to the nearest), beside the timestamps they come from, so the KPIs average and rank
integers. The backfill computes them from the stored times; the covering index for the dashboard's
aggregates holds the durations instead of the two timestamps.

Revision ID: 6d4dd2f723a3
Revises: c04a4f531d80
Create Date: 2026-11-24 14:26:31.679320+00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "6d4dd2f723a3"
down_revision = 'c04a4f531d80'
branch_labels = None
depends_on = None

KPI_COVER_BEFORE = [
    "received_at",
    "process_id",
    "channel",
    "first_response_at",
    "resolved_at",
    "first_contact_resolution",
    "escalation_level",
    "csat_score",
    "retention_status",
    "category_id",
]
KPI_COVER_AFTER = [
    "received_at",
    "process_id",
    "channel",
    "first_response_seconds",
    "resolution_seconds",
    "first_contact_resolution",
    "escalation_level",
    "csat_score",
    "retention_status",
    "category_id",
]


def _microseconds_sqlite(column: str) -> str:
    # SQLite keeps UTC timestamps as text 'YYYY-MM-DD HH:MM:SS.ffffff': whole seconds since the
    # epoch of the text without its fraction, plus the fraction's digits: exact (julianday() and
    # strftime() of the whole text round to milliseconds, which can carry into the seconds).
    return (
        f"(CAST(strftime('%s', substr({column}, 1, 19)) AS INTEGER) * 1000000"
        f" + CAST(substr({column}, 21, 6) AS INTEGER))"
    )


def _seconds(later: str, earlier: str) -> str:
    """SQL for `later - earlier` in whole seconds, rounded to the nearest with halves up, as
    `app.complaints.models.seconds_between` computes it (durations are never negative)."""
    if op.get_bind().dialect.name == "sqlite":
        difference = f"({_microseconds_sqlite(later)} - {_microseconds_sqlite(earlier)})"
        return f"(({difference} + 500000) / 1000000)"
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM ({later}) - ({earlier})) + 0.5) AS INTEGER)"


def upgrade() -> None:
    with op.batch_alter_table("complaint", schema=None) as batch_op:
        batch_op.drop_index("ix_complaint_kpi_cover")
        batch_op.add_column(sa.Column("first_response_seconds", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("resolution_seconds", sa.Integer(), nullable=True))

    op.execute(
        "UPDATE complaint SET "
        f"first_response_seconds = {_seconds('first_response_at', 'received_at')}, "
        f"resolution_seconds = {_seconds('resolved_at', 'received_at')} "
        "WHERE first_response_at IS NOT NULL OR resolved_at IS NOT NULL"
    )

    with op.batch_alter_table("complaint", schema=None) as batch_op:
        batch_op.create_index("ix_complaint_kpi_cover", KPI_COVER_AFTER, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("complaint", schema=None) as batch_op:
        batch_op.drop_index("ix_complaint_kpi_cover")
        batch_op.drop_column("resolution_seconds")
        batch_op.drop_column("first_response_seconds")

    with op.batch_alter_table("complaint", schema=None) as batch_op:
        batch_op.create_index("ix_complaint_kpi_cover", KPI_COVER_BEFORE, unique=False)
