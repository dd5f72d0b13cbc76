"""management reviews: meetings, their frozen inputs, decisions and actions

Revision ID: 95cd1233d0ae
Revises: b28e98f5edd5
Create Date: 2026-12-03 14:06:19.694081+00:00
"""

from alembic import op
import sqlalchemy as sa


revision = "95cd1233d0ae"
down_revision = "b28e98f5edd5"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "management_review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "held",
                "minutes_approved",
                name="management_review_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("meeting_date", sa.Date(), nullable=False),
        sa.Column("chair_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("agenda", sa.Text(), nullable=False),
        sa.Column("guests", sa.Text(), nullable=False),
        sa.Column("external_issues", sa.Text(), nullable=False),
        sa.Column("resources", sa.Text(), nullable=False),
        sa.Column("risk_actions", sa.Text(), nullable=False),
        sa.Column("improvement_opportunities", sa.Text(), nullable=False),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("inputs_json", sa.Text(), nullable=True),
        sa.Column("charts_json", sa.Text(), nullable=True),
        sa.Column("inputs_sha256", sa.String(length=64), nullable=True),
        sa.Column("notes_json", sa.Text(), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "period_end >= period_start", name=op.f("ck_management_review_period_in_order")
        ),
        sa.ForeignKeyConstraint(
            ["chair_id"],
            ["user_account.id"],
            name=op.f("fk_management_review_chair_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_management_review")),
        sa.UniqueConstraint("reference", name=op.f("uq_management_review_reference")),
    )
    with op.batch_alter_table("management_review", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_management_review_chair_id"), ["chair_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_management_review_meeting_date"), ["meeting_date"], unique=False
        )

    op.create_table(
        "management_review_attendee",
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["management_review.id"],
            name=op.f("fk_management_review_attendee_review_id_management_review"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_management_review_attendee_user_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("review_id", "user_id", name=op.f("pk_management_review_attendee")),
    )
    with op.batch_alter_table("management_review_attendee", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_management_review_attendee_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "management_review_output",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "decision",
                "action",
                name="review_output_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("capa_id", sa.Integer(), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "kind = 'action' OR (owner_id IS NULL AND due_date IS NULL AND capa_id IS NULL)",
            name=op.f("ck_management_review_output_only_actions_are_assigned"),
        ),
        sa.ForeignKeyConstraint(
            ["capa_id"], ["capa.id"], name=op.f("fk_management_review_output_capa_id_capa")
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["user_account.id"],
            name=op.f("fk_management_review_output_owner_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["management_review.id"],
            name=op.f("fk_management_review_output_review_id_management_review"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_management_review_output")),
        sa.UniqueConstraint("capa_id", name=op.f("uq_management_review_output_capa_id")),
    )
    with op.batch_alter_table("management_review_output", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_management_review_output_owner_id"), ["owner_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_management_review_output_review_id"), ["review_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("management_review_output", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_management_review_output_review_id"))
        batch_op.drop_index(batch_op.f("ix_management_review_output_owner_id"))

    op.drop_table("management_review_output")
    with op.batch_alter_table("management_review_attendee", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_management_review_attendee_user_id"))

    op.drop_table("management_review_attendee")
    with op.batch_alter_table("management_review", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_management_review_meeting_date"))
        batch_op.drop_index(batch_op.f("ix_management_review_chair_id"))

    op.drop_table("management_review")
