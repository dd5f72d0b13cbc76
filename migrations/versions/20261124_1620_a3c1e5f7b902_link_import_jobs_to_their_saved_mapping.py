"""link import jobs to their saved mapping

`import_job.mapping_id` names the saved mapping (`import_mapping`) a job was mapped with, so the
saved-mappings page can count each mapping's imports and say when it was last used. The job keeps
its own copy of the definition, so deleting a saved mapping sets the link to NULL. Existing jobs
stay unlinked: they carry only a copy of the definition, and a name match could be wrong.

Revision ID: a3c1e5f7b902
Revises: a7c3e91b5d20
Create Date: 2026-11-24 16:20:00.000000+00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "a3c1e5f7b902"
down_revision = "a7c3e91b5d20"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("import_job", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mapping_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_import_job_mapping_id"), ["mapping_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_import_job_mapping_id_import_mapping"),
            "import_mapping",
            ["mapping_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("import_job", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_import_job_mapping_id_import_mapping"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_import_job_mapping_id"))
        batch_op.drop_column("mapping_id")
