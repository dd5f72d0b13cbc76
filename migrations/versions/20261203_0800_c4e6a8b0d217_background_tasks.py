"""background tasks

`background_task` holds the heavy work pages hand to the schedulers (big PDFs and CSV exports,
verifying a long audit trail): what was asked and by whom, its progress, and the file it made,
kept until `expires_at`.

Revision ID: c4e6a8b0d217
Revises: b8d2f4a6c013
Create Date: 2026-12-03 08:00:00.000000+00:00
"""

import sqlalchemy as sa
from alembic import op


revision = "c4e6a8b0d217"
down_revision = "b8d2f4a6c013"
branch_labels = None
depends_on = None

STATUSES = ("queued", "running", "done", "failed")


def upgrade() -> None:
    op.create_table(
        "background_task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                *STATUSES,
                name="background_task_status",
                native_enum=False,
                create_constraint=True,
                length=7,
            ),
            nullable=False,
        ),
        sa.Column("params_json", sa.Text(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("runner", sa.String(length=200), nullable=False),
        sa.Column("progress_done", sa.Integer(), nullable=False),
        sa.Column("progress_total", sa.Integer(), nullable=True),
        sa.Column("progress_label", sa.String(length=200), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("result_filename", sa.String(length=255), nullable=True),
        sa.Column("result_mimetype", sa.String(length=100), nullable=True),
        sa.Column("result_size", sa.Integer(), nullable=True),
        sa.Column("result", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["user_account.id"],
            name=op.f("fk_background_task_requested_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_background_task")),
    )
    with op.batch_alter_table("background_task", schema=None) as batch_op:
        batch_op.create_index("ix_background_task_status_id", ["status", "id"], unique=False)
        batch_op.create_index("ix_background_task_expires_at", ["expires_at"], unique=False)
        batch_op.create_index(
            "ix_background_task_requested_by_id_id", ["requested_by_id", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("background_task", schema=None) as batch_op:
        batch_op.drop_index("ix_background_task_requested_by_id_id")
        batch_op.drop_index("ix_background_task_expires_at")
        batch_op.drop_index("ix_background_task_status_id")
    op.drop_table("background_task")
