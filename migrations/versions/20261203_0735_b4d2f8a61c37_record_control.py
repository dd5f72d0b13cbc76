"""record control: void signatures on reopen and who implemented a CAPA

`electronic_signature` gets `voided_at`, `voided_by_name` and `void_reason`: reopening a signed
record keeps its signatures but marks them void. `capa.implemented_by_id` names who marked the CAPA
implemented, so separation of duties can keep them from signing its effectiveness. Existing CAPAs
keep it empty (the audit trail says who implemented them).

Revision ID: b4d2f8a61c37
Revises: c4e6a8b0d217
Create Date: 2026-12-03 07:35:00.000000+00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "b4d2f8a61c37"
down_revision = "c4e6a8b0d217"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("electronic_signature", schema=None) as batch_op:
        batch_op.add_column(sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("voided_by_name", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("void_reason", sa.Text(), nullable=True))
    with op.batch_alter_table("capa", schema=None) as batch_op:
        batch_op.add_column(sa.Column("implemented_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_capa_implemented_by_id_user_account"),
            "user_account",
            ["implemented_by_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("capa", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_capa_implemented_by_id_user_account"), type_="foreignkey"
        )
        batch_op.drop_column("implemented_by_id")
    with op.batch_alter_table("electronic_signature", schema=None) as batch_op:
        batch_op.drop_column("void_reason")
        batch_op.drop_column("voided_by_name")
        batch_op.drop_column("voided_at")
