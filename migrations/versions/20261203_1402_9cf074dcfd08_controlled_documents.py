"""controlled documents

`controlled_document` (number, type, owner, processes, reader roles, review interval and due
date), `document_revision` (the workflow, the text or stored file, the change reason and the
CAPA that caused it; a partial unique index allows one effective revision per document) and
`read_acknowledgement` (read-and-understood training of an effective revision).

Revision ID: 9cf074dcfd08
Revises: d1f3a5c7e902
Create Date: 2026-12-03 14:02:48.889126+00:00
"""

import sqlalchemy as sa
from alembic import op


revision = "9cf074dcfd08"
down_revision = "d1f3a5c7e902"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "controlled_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=30), nullable=False),
        sa.Column(
            "doc_type",
            sa.Enum(
                "policy",
                "procedure",
                "work_instruction",
                "form",
                "record_template",
                name="document_type",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("review_interval_months", sa.Integer(), nullable=False),
        sa.Column("review_due", sa.Date(), nullable=True),
        sa.Column("reader_roles", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "review_interval_months >= 1 AND review_interval_months <= 120",
            name=op.f("ck_controlled_document_review_interval_range"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["user_account.id"],
            name=op.f("fk_controlled_document_owner_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_controlled_document")),
        sa.UniqueConstraint("number", name=op.f("uq_controlled_document_number")),
    )
    with op.batch_alter_table("controlled_document", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_controlled_document_owner_id"), ["owner_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_controlled_document_review_due"), ["review_due"], unique=False
        )

    op.create_table(
        "document_process",
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("process_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["controlled_document.id"],
            name=op.f("fk_document_process_document_id_controlled_document"),
        ),
        sa.ForeignKeyConstraint(
            ["process_id"], ["process.id"], name=op.f("fk_document_process_process_id_process")
        ),
        sa.PrimaryKeyConstraint("document_id", "process_id", name=op.f("pk_document_process")),
    )
    with op.batch_alter_table("document_process", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_document_process_process_id"), ["process_id"], unique=False
        )

    op.create_table(
        "document_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "in_review",
                "approved",
                "effective",
                "superseded",
                "obsolete",
                name="revision_status",
                native_enum=False,
                create_constraint=True,
                length=10,
            ),
            nullable=False,
        ),
        sa.Column("change_reason", sa.Text(), nullable=False),
        sa.Column("capa_id", sa.Integer(), nullable=True),
        sa.Column(
            "content_kind",
            sa.Enum(
                "markdown",
                "file",
                name="content_kind",
                native_enum=False,
                create_constraint=True,
                length=8,
            ),
            nullable=False,
        ),
        sa.Column("body_markdown", sa.Text(), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("effective_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("effective_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "(content_kind = 'file' AND file_sha256 IS NOT NULL) OR content_kind = 'markdown'",
            name=op.f("ck_document_revision_file_content_has_file"),
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["user_account.id"],
            name=op.f("fk_document_revision_author_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["capa_id"], ["capa.id"], name=op.f("fk_document_revision_capa_id_capa")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["controlled_document.id"],
            name=op.f("fk_document_revision_document_id_controlled_document"),
        ),
        sa.ForeignKeyConstraint(
            ["file_sha256"],
            ["stored_file.sha256"],
            name=op.f("fk_document_revision_file_sha256_stored_file"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_revision")),
        sa.UniqueConstraint(
            "document_id", "number", name=op.f("uq_document_revision_document_id_number")
        ),
    )
    with op.batch_alter_table("document_revision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_document_revision_capa_id"), ["capa_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_document_revision_document_id"), ["document_id"], unique=False
        )
        batch_op.create_index(
            "ix_document_revision_one_effective",
            ["document_id"],
            unique=True,
            sqlite_where=sa.text("status = 'effective'"),
            postgresql_where=sa.text("status = 'effective'"),
        )
        batch_op.create_index(
            "ix_document_revision_status_effective", ["status", "effective_from"], unique=False
        )

    op.create_table(
        "read_acknowledgement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("revision_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["revision_id"],
            ["document_revision.id"],
            name=op.f("fk_read_acknowledgement_revision_id_document_revision"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_read_acknowledgement_user_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_read_acknowledgement")),
        sa.UniqueConstraint(
            "revision_id", "user_id", name=op.f("uq_read_acknowledgement_revision_id_user_id")
        ),
    )
    with op.batch_alter_table("read_acknowledgement", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_read_acknowledgement_revision_id"), ["revision_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_read_acknowledgement_user_id"), ["user_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("read_acknowledgement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_read_acknowledgement_user_id"))
        batch_op.drop_index(batch_op.f("ix_read_acknowledgement_revision_id"))

    op.drop_table("read_acknowledgement")
    with op.batch_alter_table("document_revision", schema=None) as batch_op:
        batch_op.drop_index("ix_document_revision_status_effective")
        batch_op.drop_index(
            "ix_document_revision_one_effective",
            sqlite_where=sa.text("status = 'effective'"),
            postgresql_where=sa.text("status = 'effective'"),
        )
        batch_op.drop_index(batch_op.f("ix_document_revision_document_id"))
        batch_op.drop_index(batch_op.f("ix_document_revision_capa_id"))

    op.drop_table("document_revision")
    with op.batch_alter_table("document_process", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_process_process_id"))

    op.drop_table("document_process")
    with op.batch_alter_table("controlled_document", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_controlled_document_review_due"))
        batch_op.drop_index(batch_op.f("ix_controlled_document_owner_id"))

    op.drop_table("controlled_document")
