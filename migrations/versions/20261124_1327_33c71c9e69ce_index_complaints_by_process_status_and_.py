"""Index complaints by process, status and received time (the list's commonest narrowing).

Revision ID: 33c71c9e69ce
Revises: eb95161ba327
Create Date: 2026-11-24 13:27:23.830081+00:00
"""

from alembic import op

revision = "33c71c9e69ce"
down_revision = "eb95161ba327"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_complaint_process_status_received_at",
        "complaint",
        ["process_id", "status", "received_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_complaint_process_status_received_at", table_name="complaint")
