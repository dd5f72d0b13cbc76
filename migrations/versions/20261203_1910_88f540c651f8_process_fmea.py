"""process FMEA: worksheets, rows, preventive actions (CAPA links), approved revisions

Revision ID: 88f540c651f8
Revises: 7a7ecd787b4a
Create Date: 2026-12-03 18:48:51.475177+00:00
"""

from alembic import op
import sqlalchemy as sa


revision = "88f540c651f8"
down_revision = "7a7ecd787b4a"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fmea",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("process_id", sa.Integer(), nullable=False),
        sa.Column("process_step", sa.String(length=200), nullable=False),
        sa.Column("team", sa.Text(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("prepared_on", sa.Date(), nullable=False),
        sa.Column("next_review_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["user_account.id"], name=op.f("fk_fmea_owner_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["process_id"], ["process.id"], name=op.f("fk_fmea_process_id_process")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fmea")),
        sa.UniqueConstraint("reference", name=op.f("uq_fmea_reference")),
    )
    with op.batch_alter_table("fmea", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fmea_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_fmea_process_id"), ["process_id"], unique=False)

    op.create_table(
        "fmea_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fmea_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.Column("change_note", sa.Text(), nullable=False),
        sa.Column("snapshot_json", sa.Text(), nullable=False),
        sa.Column("snapshot_sha256", sa.String(length=64), nullable=False),
        sa.Column("approved_by_id", sa.Integer(), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["approved_by_id"],
            ["user_account.id"],
            name=op.f("fk_fmea_revision_approved_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["fmea_id"], ["fmea.id"], name=op.f("fk_fmea_revision_fmea_id_fmea")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fmea_revision")),
        sa.UniqueConstraint("fmea_id", "number", name=op.f("uq_fmea_revision_fmea_id_number")),
    )
    with op.batch_alter_table("fmea_revision", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_fmea_revision_approved_by_id"), ["approved_by_id"], unique=False
        )

    op.create_table(
        "fmea_row",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fmea_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("process_step", sa.String(length=200), nullable=False),
        sa.Column("failure_mode", sa.String(length=300), nullable=False),
        sa.Column("effect", sa.Text(), nullable=False),
        sa.Column("cause", sa.Text(), nullable=False),
        sa.Column("prevention_controls", sa.Text(), nullable=False),
        sa.Column("detection_controls", sa.Text(), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("occurrence", sa.Integer(), nullable=False),
        sa.Column("detection", sa.Integer(), nullable=False),
        sa.Column("recommended_action", sa.Text(), nullable=False),
        sa.Column("revised_severity", sa.Integer(), nullable=True),
        sa.Column("revised_occurrence", sa.Integer(), nullable=True),
        sa.Column("revised_detection", sa.Integer(), nullable=True),
        sa.Column("revised_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "(revised_severity IS NULL) = (revised_occurrence IS NULL) AND (revised_severity IS NULL) = (revised_detection IS NULL)",
            name=op.f("ck_fmea_row_revised_all_or_none"),
        ),
        sa.CheckConstraint("detection BETWEEN 1 AND 10", name=op.f("ck_fmea_row_detection_range")),
        sa.CheckConstraint(
            "occurrence BETWEEN 1 AND 10", name=op.f("ck_fmea_row_occurrence_range")
        ),
        sa.CheckConstraint(
            "revised_detection IS NULL OR revised_detection BETWEEN 1 AND 10",
            name=op.f("ck_fmea_row_revised_detection_range"),
        ),
        sa.CheckConstraint(
            "revised_occurrence IS NULL OR revised_occurrence BETWEEN 1 AND 10",
            name=op.f("ck_fmea_row_revised_occurrence_range"),
        ),
        sa.CheckConstraint(
            "revised_severity IS NULL OR revised_severity BETWEEN 1 AND 10",
            name=op.f("ck_fmea_row_revised_severity_range"),
        ),
        sa.CheckConstraint("severity BETWEEN 1 AND 10", name=op.f("ck_fmea_row_severity_range")),
        sa.ForeignKeyConstraint(["fmea_id"], ["fmea.id"], name=op.f("fk_fmea_row_fmea_id_fmea")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fmea_row")),
    )
    with op.batch_alter_table("fmea_row", schema=None) as batch_op:
        batch_op.create_index("ix_fmea_row_fmea_position", ["fmea_id", "position"], unique=False)

    op.create_table(
        "fmea_action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("row_id", sa.Integer(), nullable=False),
        sa.Column("capa_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["capa_id"], ["capa.id"], name=op.f("fk_fmea_action_capa_id_capa")),
        sa.ForeignKeyConstraint(
            ["row_id"], ["fmea_row.id"], name=op.f("fk_fmea_action_row_id_fmea_row")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fmea_action")),
        sa.UniqueConstraint("capa_id", name=op.f("uq_fmea_action_capa_id")),
    )
    with op.batch_alter_table("fmea_action", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fmea_action_row_id"), ["row_id"], unique=False)

    op.create_table(
        "fmea_row_category",
        sa.Column("row_id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"], ["category.id"], name=op.f("fk_fmea_row_category_category_id_category")
        ),
        sa.ForeignKeyConstraint(
            ["row_id"], ["fmea_row.id"], name=op.f("fk_fmea_row_category_row_id_fmea_row")
        ),
        sa.PrimaryKeyConstraint("row_id", "category_id", name=op.f("pk_fmea_row_category")),
    )
    with op.batch_alter_table("fmea_row_category", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_fmea_row_category_category_id"), ["category_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("fmea_row_category", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fmea_row_category_category_id"))

    op.drop_table("fmea_row_category")
    with op.batch_alter_table("fmea_action", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fmea_action_row_id"))

    op.drop_table("fmea_action")
    with op.batch_alter_table("fmea_row", schema=None) as batch_op:
        batch_op.drop_index("ix_fmea_row_fmea_position")

    op.drop_table("fmea_row")
    with op.batch_alter_table("fmea_revision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fmea_revision_approved_by_id"))

    op.drop_table("fmea_revision")
    with op.batch_alter_table("fmea", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fmea_process_id"))
        batch_op.drop_index(batch_op.f("ix_fmea_owner_id"))

    op.drop_table("fmea")
