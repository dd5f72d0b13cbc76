"""stored files and attachments

`stored_file` is the content-addressed store (SHA-256 key, size, media type read from the
content) with its bytes in `stored_file_chunk`; `attachment` puts a stored file on a quality
record (complaint, nonconformity, analysis, CAPA, check, training), removed only softly.

Revision ID: d1f3a5c7e902
Revises: e5a7c9d1f3b2
Create Date: 2026-12-03 14:00:00.000000+00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "d1f3a5c7e902"
down_revision = "e5a7c9d1f3b2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stored_file",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("media_type", sa.String(length=127), nullable=False),
        sa.Column("backend", sa.String(length=20), nullable=False),
        sa.Column("chunk_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_stored_file")),
    )
    op.create_table(
        "stored_file_chunk",
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["file_sha256"],
            ["stored_file.sha256"],
            name=op.f("fk_stored_file_chunk_file_sha256_stored_file"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("file_sha256", "seq", name=op.f("pk_stored_file_chunk")),
    )
    op.create_table(
        "attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_type", sa.String(length=80), nullable=False),
        sa.Column("record_id", sa.String(length=80), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("media_type", sa.String(length=127), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("removed_by_id", sa.Integer(), nullable=True),
        sa.Column("removal_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "removed_at IS NULL OR (removal_reason IS NOT NULL AND removed_by_id IS NOT NULL)",
            name=op.f("ck_attachment_removal_has_reason"),
        ),
        sa.CheckConstraint("size > 0", name=op.f("ck_attachment_size_positive")),
        sa.ForeignKeyConstraint(
            ["file_sha256"],
            ["stored_file.sha256"],
            name=op.f("fk_attachment_file_sha256_stored_file"),
        ),
        sa.ForeignKeyConstraint(
            ["removed_by_id"],
            ["user_account.id"],
            name=op.f("fk_attachment_removed_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["user_account.id"],
            name=op.f("fk_attachment_uploaded_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachment")),
    )
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.create_index("ix_attachment_record", ["record_type", "record_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_attachment_file_sha256"), ["file_sha256"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attachment_file_sha256"))
        batch_op.drop_index("ix_attachment_record")
    op.drop_table("attachment")
    op.drop_table("stored_file_chunk")
    op.drop_table("stored_file")
