"""count changes to controlled records

`data_version` holds one counter per name; "records" is bumped in the transaction of every audited
create, update, delete or transition, so caches of figures (the dashboard's, in every worker) can
tell that what they hold is stale.

Revision ID: b8d2f4a6c013
Revises: a3c1e5f7b902
Create Date: 2026-12-03 07:40:00.000000+00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "b8d2f4a6c013"
down_revision = "a3c1e5f7b902"
branch_labels = None
depends_on = None


def upgrade() -> None:
    data_version = op.create_table(
        "data_version",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_data_version")),
    )
    op.bulk_insert(data_version, [{"name": "records", "version": 0}])


def downgrade() -> None:
    op.drop_table("data_version")
