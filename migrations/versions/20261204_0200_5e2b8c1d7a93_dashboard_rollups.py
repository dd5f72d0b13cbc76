"""daily rollups of the additive complaint figures and recovery costs, filled from the records;
an index for the customer churn figures

Revision ID: 5e2b8c1d7a93
Revises: 88f540c651f8
Create Date: 2026-12-04 02:00:00+00:00
"""

from alembic import op
import sqlalchemy as sa


revision = "5e2b8c1d7a93"
down_revision = "88f540c651f8"
branch_labels = None
depends_on = None

COMPLAINT_MEASURES = (
    "complaints",
    "responded",
    "response_seconds",
    "resolutions_timed",
    "resolution_seconds",
    "first_contact_resolved",
    "first_contact_known",
    "escalated",
    "csat_count",
    "csat_sum",
    "retained",
    "lost",
    "retained_recovered",
    "lost_recovered",
    "retained_not_recovered",
    "lost_not_recovered",
    "timely",
    "timely_known",
    "disputed",
    "dispute_known",
)
BIG = {"response_seconds", "resolution_seconds"}

# The rules of app.metrics.rollup as they are at this revision, in SQL both databases read.
RESOLVED = "status IN ('resolved', 'closed')"
RECOVERED = f"({RESOLVED} AND csat_score >= 4)"
NOT_RECOVERED = f"(NOT ({RESOLVED}) OR csat_score < 4 OR (csat_score IS NULL AND disputed IS TRUE))"


def _when(condition: str) -> str:
    return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"


MEASURE_SQL = {
    "complaints": "COUNT(*)",
    "responded": "COUNT(first_response_seconds)",
    "response_seconds": "COALESCE(SUM(first_response_seconds), 0)",
    "resolutions_timed": "COUNT(resolution_seconds)",
    "resolution_seconds": "COALESCE(SUM(resolution_seconds), 0)",
    "first_contact_resolved": _when(f"first_contact_resolution IS TRUE AND {RESOLVED}"),
    "first_contact_known": _when(f"first_contact_resolution IS NOT NULL AND {RESOLVED}"),
    "escalated": _when("escalation_level > 0"),
    "csat_count": "COUNT(csat_score)",
    "csat_sum": "COALESCE(SUM(csat_score), 0)",
    "retained": _when("retention_status = 'stayed'"),
    "lost": _when("retention_status = 'left'"),
    "retained_recovered": _when(f"retention_status = 'stayed' AND {RECOVERED}"),
    "lost_recovered": _when(f"retention_status = 'left' AND {RECOVERED}"),
    "retained_not_recovered": _when(f"retention_status = 'stayed' AND {NOT_RECOVERED}"),
    "lost_not_recovered": _when(f"retention_status = 'left' AND {NOT_RECOVERED}"),
    "timely": _when("timely_response IS TRUE"),
    "timely_known": "COUNT(timely_response)",
    "disputed": _when("disputed IS TRUE"),
    "dispute_known": "COUNT(disputed)",
}


def _day(column: str) -> str:
    if op.get_bind().dialect.name == "sqlite":
        return f"substr({column}, 1, 10)"
    return f"CAST(timezone('UTC', {column}) AS DATE)"


def upgrade() -> None:
    op.create_table(
        "complaint_day_rollup",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("process_key", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        *(
            sa.Column(name, sa.BigInteger() if name in BIG else sa.Integer(), nullable=False)
            for name in COMPLAINT_MEASURES
        ),
        sa.PrimaryKeyConstraint(
            "day", "process_key", "channel", name=op.f("pk_complaint_day_rollup")
        ),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "complaint_category_day_rollup",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("process_key", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("category_key", sa.Integer(), nullable=False),
        sa.Column("complaints", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day",
            "process_key",
            "channel",
            "category_key",
            name=op.f("pk_complaint_category_day_rollup"),
        ),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "recovery_cost_day_rollup",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("process_key", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("amount", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.PrimaryKeyConstraint(
            "day", "process_key", "channel", name=op.f("pk_recovery_cost_day_rollup")
        ),
        sqlite_with_rowid=False,
    )
    day = _day("received_at")
    keys = f"{day}, COALESCE(process_id, 0), channel"
    op.execute(
        f"INSERT INTO complaint_day_rollup (day, process_key, channel, "
        f"{', '.join(COMPLAINT_MEASURES)}) "
        f"SELECT {keys}, {', '.join(MEASURE_SQL[name] for name in COMPLAINT_MEASURES)} "
        f"FROM complaint GROUP BY {keys}"
    )
    category_keys = f"{keys}, COALESCE(category_id, 0)"
    op.execute(
        "INSERT INTO complaint_category_day_rollup "
        "(day, process_key, channel, category_key, complaints) "
        f"SELECT {category_keys}, COUNT(*) FROM complaint GROUP BY {category_keys}"
    )
    cost_keys = (
        f"{_day('recovery_action.done_at')}, COALESCE(complaint.process_id, 0), complaint.channel"
    )
    op.execute(
        "INSERT INTO recovery_cost_day_rollup (day, process_key, channel, amount) "
        f"SELECT {cost_keys}, SUM(recovery_action.amount) FROM recovery_action "
        "JOIN complaint ON complaint.id = recovery_action.complaint_id "
        f"WHERE recovery_action.amount IS NOT NULL GROUP BY {cost_keys}"
    )
    op.create_index(
        "ix_customer_since_left_on", "customer", ["customer_since", "left_on"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_customer_since_left_on", table_name="customer")
    op.drop_table("recovery_cost_day_rollup")
    op.drop_table("complaint_category_day_rollup")
    op.drop_table("complaint_day_rollup")
