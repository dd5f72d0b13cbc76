"""internal audits: standards and clauses (ISO 9001:2015 shipped), checklists, programmes, findings

Ships the clause structure of ISO 9001:2015 (clause numbers and titles, 4 to 10.3) as reference
data, marked built-in so that users add their own standards beside it rather than edit it.

Revision ID: b28e98f5edd5
Revises: c2e8f1a4d736
Create Date: 2026-12-03 13:46:26.993363+00:00
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "b28e98f5edd5"
down_revision = "c2e8f1a4d736"
branch_labels = None
depends_on = None


ISO_9001_2015 = [
    ("4", "Context of the organization"),
    ("4.1", "Understanding the organization and its context"),
    ("4.2", "Understanding the needs and expectations of interested parties"),
    ("4.3", "Determining the scope of the quality management system"),
    ("4.4", "Quality management system and its processes"),
    ("5", "Leadership"),
    ("5.1", "Leadership and commitment"),
    ("5.2", "Policy"),
    ("5.3", "Organizational roles, responsibilities and authorities"),
    ("6", "Planning"),
    ("6.1", "Actions to address risks and opportunities"),
    ("6.2", "Quality objectives and planning to achieve them"),
    ("6.3", "Planning of changes"),
    ("7", "Support"),
    ("7.1", "Resources"),
    ("7.2", "Competence"),
    ("7.3", "Awareness"),
    ("7.4", "Communication"),
    ("7.5", "Documented information"),
    ("8", "Operation"),
    ("8.1", "Operational planning and control"),
    ("8.2", "Requirements for products and services"),
    ("8.3", "Design and development of products and services"),
    ("8.4", "Control of externally provided processes, products and services"),
    ("8.5", "Production and service provision"),
    ("8.6", "Release of products and services"),
    ("8.7", "Control of nonconforming outputs"),
    ("9", "Performance evaluation"),
    ("9.1", "Monitoring, measurement, analysis and evaluation"),
    ("9.2", "Internal audit"),
    ("9.3", "Management review"),
    ("10", "Improvement"),
    ("10.1", "General"),
    ("10.2", "Nonconformity and corrective action"),
    ("10.3", "Continual improvement"),
]


def upgrade() -> None:
    op.create_table(
        "audit_programme",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("objectives", sa.Text(), nullable=False),
        sa.Column("interval_months", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "interval_months BETWEEN 1 AND 60", name=op.f("ck_audit_programme_interval_range")
        ),
        sa.CheckConstraint(
            "year BETWEEN 2000 AND 2100", name=op.f("ck_audit_programme_year_range")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_programme")),
        sa.UniqueConstraint("year", name=op.f("uq_audit_programme_year")),
    )
    op.create_table(
        "audit_standard",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("builtin", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_standard")),
        sa.UniqueConstraint("code", name=op.f("uq_audit_standard_code")),
    )
    op.create_table(
        "checklist_template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checklist_template")),
        sa.UniqueConstraint("name", name=op.f("uq_checklist_template_name")),
    )
    op.create_table(
        "audit_clause",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("standard_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["standard_id"],
            ["audit_standard.id"],
            name=op.f("fk_audit_clause_standard_id_audit_standard"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_clause")),
        sa.UniqueConstraint(
            "standard_id", "number", name=op.f("uq_audit_clause_standard_id_number")
        ),
    )
    op.create_table(
        "internal_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("criteria", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "planned",
                "in_preparation",
                "in_progress",
                "reporting",
                "closed",
                "cancelled",
                name="audit_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("planned_start", sa.Date(), nullable=False),
        sa.Column("planned_end", sa.Date(), nullable=False),
        sa.Column("lead_auditor_id", sa.Integer(), nullable=False),
        sa.Column("conclusion", sa.Text(), nullable=False),
        sa.Column("independence_exception", sa.Text(), nullable=False),
        sa.Column("independence_conflicts", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reporting_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "planned_end >= planned_start", name=op.f("ck_internal_audit_end_after_start")
        ),
        sa.ForeignKeyConstraint(
            ["lead_auditor_id"],
            ["user_account.id"],
            name=op.f("fk_internal_audit_lead_auditor_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["audit_programme.id"],
            name=op.f("fk_internal_audit_programme_id_audit_programme"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_internal_audit")),
        sa.UniqueConstraint("reference", name=op.f("uq_internal_audit_reference")),
    )
    with op.batch_alter_table("internal_audit", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_internal_audit_lead_auditor_id"), ["lead_auditor_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_internal_audit_programme_id"), ["programme_id"], unique=False
        )
        batch_op.create_index(
            "ix_internal_audit_status_planned_start", ["status", "planned_start"], unique=False
        )

    op.create_table(
        "audit_process",
        sa.Column("audit_id", sa.Integer(), nullable=False),
        sa.Column("process_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["audit_id"],
            ["internal_audit.id"],
            name=op.f("fk_audit_process_audit_id_internal_audit"),
        ),
        sa.ForeignKeyConstraint(
            ["process_id"], ["process.id"], name=op.f("fk_audit_process_process_id_process")
        ),
        sa.PrimaryKeyConstraint("audit_id", "process_id", name=op.f("pk_audit_process")),
    )
    with op.batch_alter_table("audit_process", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_audit_process_process_id"), ["process_id"], unique=False
        )

    op.create_table(
        "audit_question",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("audit_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("template_name", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("clause_id", sa.Integer(), nullable=False),
        sa.Column(
            "answer",
            sa.Enum(
                "conforming",
                "nonconforming",
                "observation",
                "not_applicable",
                name="audit_answer",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=True,
        ),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("answered_by_id", sa.Integer(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["answered_by_id"],
            ["user_account.id"],
            name=op.f("fk_audit_question_answered_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["audit_id"],
            ["internal_audit.id"],
            name=op.f("fk_audit_question_audit_id_internal_audit"),
        ),
        sa.ForeignKeyConstraint(
            ["clause_id"],
            ["audit_clause.id"],
            name=op.f("fk_audit_question_clause_id_audit_clause"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_question")),
        sa.UniqueConstraint(
            "audit_id", "position", name=op.f("uq_audit_question_audit_id_position")
        ),
    )
    with op.batch_alter_table("audit_question", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_audit_question_clause_id"), ["clause_id"], unique=False
        )

    op.create_table(
        "audit_scope_clause",
        sa.Column("audit_id", sa.Integer(), nullable=False),
        sa.Column("clause_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["audit_id"],
            ["internal_audit.id"],
            name=op.f("fk_audit_scope_clause_audit_id_internal_audit"),
        ),
        sa.ForeignKeyConstraint(
            ["clause_id"],
            ["audit_clause.id"],
            name=op.f("fk_audit_scope_clause_clause_id_audit_clause"),
        ),
        sa.PrimaryKeyConstraint("audit_id", "clause_id", name=op.f("pk_audit_scope_clause")),
    )
    with op.batch_alter_table("audit_scope_clause", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_audit_scope_clause_clause_id"), ["clause_id"], unique=False
        )

    op.create_table(
        "audit_site",
        sa.Column("audit_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["audit_id"], ["internal_audit.id"], name=op.f("fk_audit_site_audit_id_internal_audit")
        ),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_audit_site_site_id_site")),
        sa.PrimaryKeyConstraint("audit_id", "site_id", name=op.f("pk_audit_site")),
    )
    with op.batch_alter_table("audit_site", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_site_site_id"), ["site_id"], unique=False)

    op.create_table(
        "audit_team_member",
        sa.Column("audit_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["audit_id"],
            ["internal_audit.id"],
            name=op.f("fk_audit_team_member_audit_id_internal_audit"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_audit_team_member_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("audit_id", "user_id", name=op.f("pk_audit_team_member")),
    )
    with op.batch_alter_table("audit_team_member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_team_member_user_id"), ["user_id"], unique=False)

    op.create_table(
        "checklist_question",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("clause_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clause_id"],
            ["audit_clause.id"],
            name=op.f("fk_checklist_question_clause_id_audit_clause"),
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["checklist_template.id"],
            name=op.f("fk_checklist_question_template_id_checklist_template"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checklist_question")),
    )
    with op.batch_alter_table("checklist_question", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_checklist_question_clause_id"), ["clause_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_checklist_question_template_id"), ["template_id"], unique=False
        )

    op.create_table(
        "audit_finding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("audit_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "major",
                "minor",
                "observation",
                "opportunity",
                name="audit_finding_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("clause_id", sa.Integer(), nullable=True),
        sa.Column("process_id", sa.Integer(), nullable=True),
        sa.Column("question_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("nonconformity_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["audit_id"],
            ["internal_audit.id"],
            name=op.f("fk_audit_finding_audit_id_internal_audit"),
        ),
        sa.ForeignKeyConstraint(
            ["clause_id"], ["audit_clause.id"], name=op.f("fk_audit_finding_clause_id_audit_clause")
        ),
        sa.ForeignKeyConstraint(
            ["nonconformity_id"],
            ["nonconformity.id"],
            name=op.f("fk_audit_finding_nonconformity_id_nonconformity"),
        ),
        sa.ForeignKeyConstraint(
            ["process_id"], ["process.id"], name=op.f("fk_audit_finding_process_id_process")
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["audit_question.id"],
            name=op.f("fk_audit_finding_question_id_audit_question"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["user_account.id"],
            name=op.f("fk_audit_finding_recorded_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_finding")),
        sa.UniqueConstraint("audit_id", "number", name=op.f("uq_audit_finding_audit_id_number")),
        sa.UniqueConstraint("nonconformity_id", name=op.f("uq_audit_finding_nonconformity_id")),
    )
    with op.batch_alter_table("audit_finding", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_finding_clause_id"), ["clause_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_audit_finding_process_id"), ["process_id"], unique=False
        )

    _ship_iso_9001()


def _ship_iso_9001() -> None:
    standard = sa.table(
        "audit_standard",
        sa.column("id", sa.Integer),
        sa.column("code", sa.String),
        sa.column("title", sa.String),
        sa.column("builtin", sa.Boolean),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
        sa.column("version", sa.Integer),
    )
    clause = sa.table(
        "audit_clause",
        sa.column("standard_id", sa.Integer),
        sa.column("number", sa.String),
        sa.column("title", sa.String),
        sa.column("position", sa.Integer),
    )
    shipped = datetime(2026, 12, 3, tzinfo=UTC)
    if op.get_bind().dialect.name == "sqlite":
        shipped = shipped.replace(tzinfo=None)  # SQLite keeps naive UTC (see UTCDateTime)
    op.bulk_insert(
        standard,
        [
            {
                "id": 1,
                "code": "ISO 9001:2015",
                "title": "Quality management systems — Requirements",
                "builtin": True,
                "created_at": shipped,
                "updated_at": shipped,
                "version": 1,
            }
        ],
    )
    op.bulk_insert(
        clause,
        [
            {"standard_id": 1, "number": number, "title": title, "position": position}
            for position, (number, title) in enumerate(ISO_9001_2015, start=1)
        ],
    )
    if op.get_bind().dialect.name == "postgresql":
        # The standard was inserted with an explicit id: move the sequence past it.
        op.execute(
            "SELECT setval(pg_get_serial_sequence('audit_standard', 'id'), "
            "(SELECT MAX(id) FROM audit_standard))"
        )


def downgrade() -> None:
    with op.batch_alter_table("audit_finding", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_finding_process_id"))
        batch_op.drop_index(batch_op.f("ix_audit_finding_clause_id"))

    op.drop_table("audit_finding")
    with op.batch_alter_table("checklist_question", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_checklist_question_template_id"))
        batch_op.drop_index(batch_op.f("ix_checklist_question_clause_id"))

    op.drop_table("checklist_question")
    with op.batch_alter_table("audit_team_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_team_member_user_id"))

    op.drop_table("audit_team_member")
    with op.batch_alter_table("audit_site", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_site_site_id"))

    op.drop_table("audit_site")
    with op.batch_alter_table("audit_scope_clause", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_scope_clause_clause_id"))

    op.drop_table("audit_scope_clause")
    with op.batch_alter_table("audit_question", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_question_clause_id"))

    op.drop_table("audit_question")
    with op.batch_alter_table("audit_process", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_process_process_id"))

    op.drop_table("audit_process")
    with op.batch_alter_table("internal_audit", schema=None) as batch_op:
        batch_op.drop_index("ix_internal_audit_status_planned_start")
        batch_op.drop_index(batch_op.f("ix_internal_audit_programme_id"))
        batch_op.drop_index(batch_op.f("ix_internal_audit_lead_auditor_id"))

    op.drop_table("internal_audit")
    op.drop_table("audit_clause")
    op.drop_table("checklist_template")
    op.drop_table("audit_standard")
    op.drop_table("audit_programme")
