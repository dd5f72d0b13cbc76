"""first-contact resolution may be unknown

`complaint.first_contact_resolution` becomes nullable: an imported complaint whose source does not
say whether it was resolved at the first contact stores NULL (unknown) instead of false, so the
first-contact resolution rate leaves it out rather than counting it as a miss. The dashboard's
covering index gains `status`, which now says whether a complaint is resolved (an imported one may
be resolved at an unknown time). Rows already stored are left as they are.

Revision ID: e5a7c9d1f3b2
Revises: 95cd1233d0ae
Create Date: 2026-12-03 14:00:00.000000+00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "e5a7c9d1f3b2"
down_revision = "95cd1233d0ae"
branch_labels = None
depends_on = None

KPI_COVER_BEFORE = [
    "received_at",
    "process_id",
    "channel",
    "first_response_seconds",
    "resolution_seconds",
    "first_contact_resolution",
    "escalation_level",
    "csat_score",
    "retention_status",
    "category_id",
]
KPI_COVER_AFTER = [*KPI_COVER_BEFORE, "status"]


def upgrade() -> None:
    with op.batch_alter_table("complaint", schema=None) as batch_op:
        batch_op.drop_index("ix_complaint_kpi_cover")
        batch_op.alter_column(
            "first_contact_resolution", existing_type=sa.Boolean(), nullable=True
        )
    with op.batch_alter_table("complaint", schema=None) as batch_op:
        batch_op.create_index("ix_complaint_kpi_cover", KPI_COVER_AFTER, unique=False)


def downgrade() -> None:
    op.execute(
        "UPDATE complaint SET first_contact_resolution = false "
        "WHERE first_contact_resolution IS NULL"
    )
    with op.batch_alter_table("complaint", schema=None) as batch_op:
        batch_op.drop_index("ix_complaint_kpi_cover")
        batch_op.alter_column(
            "first_contact_resolution", existing_type=sa.Boolean(), nullable=False
        )
    with op.batch_alter_table("complaint", schema=None) as batch_op:
        batch_op.create_index("ix_complaint_kpi_cover", KPI_COVER_BEFORE, unique=False)
