"""signed audit checkpoints

`audit_checkpoint` keeps each signed checkpoint of the audit chain's head (event count, head id,
head hash, time, Ed25519 signature). Like `audit_event` it is append-only: triggers refuse UPDATE
and DELETE, so replacing a checkpoint takes the same deliberate bypass as editing an event.

Revision ID: b7d4e2a9c615
Revises: b4d2f8a61c37
Create Date: 2026-12-03 07:40:00.000000+00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "b7d4e2a9c615"
down_revision = "b4d2f8a61c37"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_checkpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("head_event_id", sa.Integer(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("published_to", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "event_count >= 0", name=op.f("ck_audit_checkpoint_event_count_not_negative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoint")),
    )
    with op.batch_alter_table("audit_checkpoint", schema=None) as batch_op:
        batch_op.create_index("ix_audit_checkpoint_head_event_id", ["head_event_id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION audit_checkpoint_refuse_change() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'audit_checkpoint is append-only: % refused', TG_OP;
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER audit_checkpoint_append_only BEFORE UPDATE OR DELETE "
            "ON audit_checkpoint FOR EACH ROW EXECUTE FUNCTION audit_checkpoint_refuse_change()"
        )
        op.execute(
            "CREATE TRIGGER audit_checkpoint_no_truncate BEFORE TRUNCATE ON audit_checkpoint "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_checkpoint_refuse_change()"
        )
    else:
        op.execute(
            "CREATE TRIGGER audit_checkpoint_no_update BEFORE UPDATE ON audit_checkpoint "
            "BEGIN SELECT RAISE(ABORT, 'audit_checkpoint is append-only: UPDATE refused'); END"
        )
        op.execute(
            "CREATE TRIGGER audit_checkpoint_no_delete BEFORE DELETE ON audit_checkpoint "
            "BEGIN SELECT RAISE(ABORT, 'audit_checkpoint is append-only: DELETE refused'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_checkpoint_no_truncate ON audit_checkpoint")
        op.execute("DROP TRIGGER IF EXISTS audit_checkpoint_append_only ON audit_checkpoint")
        op.execute("DROP FUNCTION IF EXISTS audit_checkpoint_refuse_change()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_checkpoint_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_checkpoint_no_delete")
    with op.batch_alter_table("audit_checkpoint", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_checkpoint_head_event_id")
    op.drop_table("audit_checkpoint")
