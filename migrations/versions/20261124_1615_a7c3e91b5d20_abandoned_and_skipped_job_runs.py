"""abandoned and skipped job runs

Two more run statuses: "abandoned" (the runner died before it finished, marked by the next
scheduler) and "skipped" (the slot came while the job's previous run was still going). An index on
(status, job_name) keeps each tick's look for running runs cheap however long the history grows.

Revision ID: a7c3e91b5d20
Revises: 6d4dd2f723a3
Create Date: 2026-11-24 16:15:00.000000+00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "a7c3e91b5d20"
down_revision = "6d4dd2f723a3"
branch_labels = None
depends_on = None

OLD_STATUSES = ("running", "succeeded", "failed")
NEW_STATUSES = (*OLD_STATUSES, "abandoned", "skipped")


def _status_type(values: tuple[str, ...]) -> sa.Enum:
    # The column is a string with a CHECK listing the values: changing the type swaps the CHECK.
    return sa.Enum(*values, name="job_run_status", native_enum=False, create_constraint=True)


def upgrade() -> None:
    with op.batch_alter_table("job_run", schema=None) as batch_op:
        batch_op.alter_column(
            "status",
            existing_type=_status_type(OLD_STATUSES),
            type_=_status_type(NEW_STATUSES),
            existing_nullable=False,
        )
        batch_op.create_index("ix_job_run_status_job_name", ["status", "job_name"], unique=False)


def downgrade() -> None:
    # The older schema has no word for these runs: they end as failed, their error kept.
    op.execute(
        sa.text(
            "UPDATE job_run SET status = 'failed' WHERE status IN ('abandoned', 'skipped')"
        )
    )
    with op.batch_alter_table("job_run", schema=None) as batch_op:
        batch_op.drop_index("ix_job_run_status_job_name")
        batch_op.alter_column(
            "status",
            existing_type=_status_type(NEW_STATUSES),
            type_=_status_type(OLD_STATUSES),
            existing_nullable=False,
        )
