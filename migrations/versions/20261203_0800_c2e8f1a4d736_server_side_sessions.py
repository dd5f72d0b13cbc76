"""server-side sessions

`user_session` keeps each signed-in browser session (the SHA-256 of the token its cookie carries),
so signing out, a changed password or role, and deactivation end sessions on the server: a copy of
the cookie replayed later is refused. Cookies from before this revision carry no token, so
everybody signs in again once.

Revision ID: c2e8f1a4d736
Revises: b7d4e2a9c615
Create Date: 2026-12-03 08:00:00.000000+00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "c2e8f1a4d736"
down_revision = "b7d4e2a9c615"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_session",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_user_session_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_session")),
    )
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.create_index(
            "ix_user_session_user_id_ended_at", ["user_id", "ended_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.drop_index("ix_user_session_user_id_ended_at")
    op.drop_table("user_session")
