"""complaint source outcomes

Four nullable complaint columns for the outcomes a source system records: whether the company
responded in time, whether the customer disputed the outcome, the company's public response and the
customer's region (state). NULL is unknown; rows already stored stay unknown.

Revision ID: a7d3f1c9e2b4
Revises: b7d21f4c9a60
Create Date: 2026-12-03 15:30:00.000000+00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "a7d3f1c9e2b4"
down_revision = "b7d21f4c9a60"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("complaint", schema=None) as batch_op:
        batch_op.add_column(sa.Column("timely_response", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("disputed", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("public_response", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("region", sa.String(length=60), nullable=True))


def downgrade() -> None:
    # SQLite drops the columns in place (3.35+): a batch copy of the table would trip over the
    # complaint-search triggers that name it.
    with op.batch_alter_table("complaint", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("region")
        batch_op.drop_column("public_response")
        batch_op.drop_column("disputed")
        batch_op.drop_column("timely_response")
