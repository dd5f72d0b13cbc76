"""strategy workspace

Measured metrics and their monthly values; the organisational assessment (entries kept as
revisions, linked to objectives and initiatives); the operating model (departments, the processes
they run, the recoveries they own, capabilities, stakeholders); initiatives linked to the
departments that carry them and the CAPAs that serve them; and the day a customer left.

Revision ID: 7be7a7994507
Revises: a7d3f1c9e2b4
Create Date: 2026-12-03 18:49:39.646276+00:00
"""

import sqlalchemy as sa
from alembic import op


revision = "7be7a7994507"
down_revision = "a7d3f1c9e2b4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "measured_metric",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "category",
            sa.Enum(
                "marketing",
                "sales",
                "customer_service",
                "it",
                name="metric_category",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "unit",
            sa.Enum(
                "count",
                "hours",
                "days",
                "rate",
                "score",
                "money",
                name="metric_unit",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "better",
            sa.Enum(
                "lower", "higher", name="metric_better", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("length(key) >= 2", name=op.f("ck_measured_metric_key_not_empty")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_measured_metric")),
        sa.UniqueConstraint("key", name=op.f("uq_measured_metric_key")),
    )
    with op.batch_alter_table("measured_metric", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_measured_metric_category"), ["category"], unique=False)

    op.create_table(
        "assessment_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "business_need",
                "organisational_driver",
                "technology_driver",
                "external_factor",
                name="factor_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["site.id"], name=op.f("fk_assessment_entry_site_id_site")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_entry")),
    )
    with op.batch_alter_table("assessment_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assessment_entry_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_assessment_entry_site_id"), ["site_id"], unique=False)

    op.create_table(
        "department",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("head_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["head_id"], ["user_account.id"], name=op.f("fk_department_head_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_department")),
        sa.UniqueConstraint("name", name=op.f("uq_department_name")),
    )
    with op.batch_alter_table("department", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_department_head_id"), ["head_id"], unique=False)

    op.create_table(
        "metric_value",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("metric_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("value", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "source IN ('form', 'import', 'api')", name=op.f("ck_metric_value_source_known")
        ),
        sa.ForeignKeyConstraint(
            ["metric_id"],
            ["measured_metric.id"],
            name=op.f("fk_metric_value_metric_id_measured_metric"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metric_value")),
        sa.UniqueConstraint(
            "metric_id", "period_start", name=op.f("uq_metric_value_metric_id_period_start")
        ),
    )
    with op.batch_alter_table("metric_value", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_metric_value_metric_id"), ["metric_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_metric_value_period_start"), ["period_start"], unique=False
        )

    op.create_table(
        "assessment_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("assessed_on", sa.Date(), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column(
            "impact",
            sa.Enum(
                "low",
                "medium",
                "high",
                name="factor_impact",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("number >= 1", name=op.f("ck_assessment_revision_number_positive")),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["assessment_entry.id"],
            name=op.f("fk_assessment_revision_entry_id_assessment_entry"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["user_account.id"],
            name=op.f("fk_assessment_revision_recorded_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_revision")),
        sa.UniqueConstraint(
            "entry_id", "number", name=op.f("uq_assessment_revision_entry_id_number")
        ),
    )
    with op.batch_alter_table("assessment_revision", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assessment_revision_assessed_on"), ["assessed_on"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_assessment_revision_entry_id"), ["entry_id"], unique=False
        )

    op.create_table(
        "capability",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["department.id"],
            name=op.f("fk_capability_department_id_department"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_capability")),
        sa.UniqueConstraint("name", name=op.f("uq_capability_name")),
    )
    with op.batch_alter_table("capability", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_capability_department_id"), ["department_id"], unique=False
        )

    op.create_table(
        "department_process",
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("process_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["department.id"],
            name=op.f("fk_department_process_department_id_department"),
        ),
        sa.ForeignKeyConstraint(
            ["process_id"], ["process.id"], name=op.f("fk_department_process_process_id_process")
        ),
        sa.PrimaryKeyConstraint("department_id", "process_id", name=op.f("pk_department_process")),
    )
    with op.batch_alter_table("department_process", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_department_process_process_id"), ["process_id"], unique=False
        )

    op.create_table(
        "recovery_ownership",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column(
            "recovery",
            sa.Enum(
                "customer",
                "process",
                "employee",
                name="recovery_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["department.id"],
            name=op.f("fk_recovery_ownership_department_id_department"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_ownership")),
        sa.UniqueConstraint(
            "department_id", "recovery", name=op.f("uq_recovery_ownership_department_id_recovery")
        ),
    )
    with op.batch_alter_table("recovery_ownership", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_recovery_ownership_department_id"), ["department_id"], unique=False
        )

    op.create_table(
        "stakeholder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "internal",
                "external",
                name="stakeholder_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("interest", sa.Text(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["department.id"],
            name=op.f("fk_stakeholder_department_id_department"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stakeholder")),
        sa.UniqueConstraint("name", name=op.f("uq_stakeholder_name")),
    )
    with op.batch_alter_table("stakeholder", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_stakeholder_department_id"), ["department_id"], unique=False
        )

    op.create_table(
        "assessment_revision_initiative",
        sa.Column("revision_id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiative.id"],
            name=op.f("fk_assessment_revision_initiative_initiative_id_initiative"),
        ),
        sa.ForeignKeyConstraint(
            ["revision_id"],
            ["assessment_revision.id"],
            name=op.f("fk_assessment_revision_initiative_revision_id_assessment_revision"),
        ),
        sa.PrimaryKeyConstraint(
            "revision_id", "initiative_id", name=op.f("pk_assessment_revision_initiative")
        ),
    )
    with op.batch_alter_table("assessment_revision_initiative", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assessment_revision_initiative_initiative_id"),
            ["initiative_id"],
            unique=False,
        )

    op.create_table(
        "assessment_revision_objective",
        sa.Column("revision_id", sa.Integer(), nullable=False),
        sa.Column("objective_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["objective_id"],
            ["objective.id"],
            name=op.f("fk_assessment_revision_objective_objective_id_objective"),
        ),
        sa.ForeignKeyConstraint(
            ["revision_id"],
            ["assessment_revision.id"],
            name=op.f("fk_assessment_revision_objective_revision_id_assessment_revision"),
        ),
        sa.PrimaryKeyConstraint(
            "revision_id", "objective_id", name=op.f("pk_assessment_revision_objective")
        ),
    )
    with op.batch_alter_table("assessment_revision_objective", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assessment_revision_objective_objective_id"),
            ["objective_id"],
            unique=False,
        )

    op.create_table(
        "department_initiative",
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["department.id"],
            name=op.f("fk_department_initiative_department_id_department"),
        ),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiative.id"],
            name=op.f("fk_department_initiative_initiative_id_initiative"),
        ),
        sa.PrimaryKeyConstraint(
            "department_id", "initiative_id", name=op.f("pk_department_initiative")
        ),
    )
    with op.batch_alter_table("department_initiative", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_department_initiative_initiative_id"), ["initiative_id"], unique=False
        )

    op.create_table(
        "initiative_capa",
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("capa_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["capa_id"], ["capa.id"], name=op.f("fk_initiative_capa_capa_id_capa")
        ),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiative.id"],
            name=op.f("fk_initiative_capa_initiative_id_initiative"),
        ),
        sa.PrimaryKeyConstraint("initiative_id", "capa_id", name=op.f("pk_initiative_capa")),
    )
    with op.batch_alter_table("initiative_capa", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_initiative_capa_capa_id"), ["capa_id"], unique=False)

    with op.batch_alter_table("customer", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("left_on", sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f("ix_customer_left_on"), ["left_on"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("customer", schema=None, recreate="never") as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_left_on"))
        batch_op.drop_column("left_on")

    with op.batch_alter_table("initiative_capa", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_initiative_capa_capa_id"))

    op.drop_table("initiative_capa")
    with op.batch_alter_table("department_initiative", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_department_initiative_initiative_id"))

    op.drop_table("department_initiative")
    with op.batch_alter_table("assessment_revision_objective", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assessment_revision_objective_objective_id"))

    op.drop_table("assessment_revision_objective")
    with op.batch_alter_table("assessment_revision_initiative", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assessment_revision_initiative_initiative_id"))

    op.drop_table("assessment_revision_initiative")
    with op.batch_alter_table("stakeholder", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stakeholder_department_id"))

    op.drop_table("stakeholder")
    with op.batch_alter_table("recovery_ownership", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recovery_ownership_department_id"))

    op.drop_table("recovery_ownership")
    with op.batch_alter_table("department_process", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_department_process_process_id"))

    op.drop_table("department_process")
    with op.batch_alter_table("capability", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_capability_department_id"))

    op.drop_table("capability")
    with op.batch_alter_table("assessment_revision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assessment_revision_entry_id"))
        batch_op.drop_index(batch_op.f("ix_assessment_revision_assessed_on"))

    op.drop_table("assessment_revision")
    with op.batch_alter_table("metric_value", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_metric_value_period_start"))
        batch_op.drop_index(batch_op.f("ix_metric_value_metric_id"))

    op.drop_table("metric_value")
    with op.batch_alter_table("department", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_department_head_id"))

    op.drop_table("department")
    with op.batch_alter_table("assessment_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assessment_entry_site_id"))
        batch_op.drop_index(batch_op.f("ix_assessment_entry_kind"))

    op.drop_table("assessment_entry")
    with op.batch_alter_table("measured_metric", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_measured_metric_category"))

    op.drop_table("measured_metric")
