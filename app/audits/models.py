"""Internal audits (ISO 9001:2015 clause 9.2): standards and their clauses, checklist templates,
yearly audit programmes, audits with their scope and team, the audit's own copy of the checklist
with the auditors' answers, and findings (which may raise nonconformities)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from app.accounts.models import User
from app.complaints.models import LabelledEnum
from app.core.audit import Audited
from app.core.db import Base, TimestampMixin, UTCDateTime, VersionedMixin, enum_type
from app.nonconformities.models import Nonconformity
from app.organisation.models import Process, Site


class AuditStatus(LabelledEnum):
    PLANNED = "planned"
    IN_PREPARATION = "in_preparation"
    IN_PROGRESS = "in_progress"
    REPORTING = "reporting"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class Answer(LabelledEnum):
    CONFORMING = "conforming"
    NONCONFORMING = "nonconforming"
    OBSERVATION = "observation"
    NOT_APPLICABLE = "not_applicable"


class FindingKind(LabelledEnum):
    MAJOR = "major"
    MINOR = "minor"
    OBSERVATION = "observation"
    OPPORTUNITY = "opportunity"

    @property
    def label(self) -> str:
        return FINDING_KIND_LABELS[self]

    @property
    def is_nonconformity(self) -> bool:
        return self in (FindingKind.MAJOR, FindingKind.MINOR)


FINDING_KIND_LABELS = {
    FindingKind.MAJOR: "Major nonconformity",
    FindingKind.MINOR: "Minor nonconformity",
    FindingKind.OBSERVATION: "Observation",
    FindingKind.OPPORTUNITY: "Opportunity for improvement",
}


class Standard(Audited, TimestampMixin, VersionedMixin, Base):
    """A management-system standard (ISO 9001:2015 is shipped; users add their own)."""

    __tablename__ = "audit_standard"
    __audit_label__ = "code"
    __audit_type_label__ = "Standard"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    # Shipped reference data (the migration's ISO 9001:2015 clauses): not edited by users.
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)

    clauses: Mapped[list[Clause]] = relationship(
        back_populates="standard", order_by="Clause.position"
    )


class Clause(Audited, Base):
    __tablename__ = "audit_clause"
    __audit_label__ = "number"
    __audit_type_label__ = "Clause"
    __table_args__ = (UniqueConstraint("standard_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    standard_id: Mapped[int] = mapped_column(ForeignKey("audit_standard.id"))
    number: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)

    standard: Mapped[Standard] = relationship(back_populates="clauses")

    @property
    def label(self) -> str:
        return f"{self.number} {self.title}"


class ChecklistTemplate(Audited, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "checklist_template"
    __audit_label__ = "name"
    __audit_type_label__ = "Checklist template"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    questions: Mapped[list[ChecklistQuestion]] = relationship(
        back_populates="template", order_by="ChecklistQuestion.position"
    )


class ChecklistQuestion(Audited, Base):
    __tablename__ = "checklist_question"
    __audit_label__ = "text"
    __audit_type_label__ = "Checklist question"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("checklist_template.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    clause_id: Mapped[int] = mapped_column(ForeignKey("audit_clause.id"), index=True)

    template: Mapped[ChecklistTemplate] = relationship(back_populates="questions")
    clause: Mapped[Clause] = relationship()


class AuditProgramme(Audited, TimestampMixin, VersionedMixin, Base):
    """The plan of internal audits for one calendar year."""

    __tablename__ = "audit_programme"
    __audit_label__ = "title"
    __audit_type_label__ = "Audit programme"
    __audit_field_labels__ = {"interval_months": "Audit interval (months)"}
    __table_args__ = (
        CheckConstraint("year BETWEEN 2000 AND 2100", name="year_range"),
        CheckConstraint("interval_months BETWEEN 1 AND 60", name="interval_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, unique=True)
    title: Mapped[str] = mapped_column(String(200))
    objectives: Mapped[str] = mapped_column(Text, default="")
    # Every process should be audited at least this often (ISO 9001 asks for planned intervals).
    interval_months: Mapped[int] = mapped_column(Integer, default=12)

    audits: Mapped[list[Audit]] = relationship(
        back_populates="programme", order_by="Audit.planned_start"
    )


audit_process = Table(
    "audit_process",
    Base.metadata,
    Column("audit_id", ForeignKey("internal_audit.id"), primary_key=True),
    Column("process_id", ForeignKey("process.id"), primary_key=True, index=True),
)

audit_site = Table(
    "audit_site",
    Base.metadata,
    Column("audit_id", ForeignKey("internal_audit.id"), primary_key=True),
    Column("site_id", ForeignKey("site.id"), primary_key=True, index=True),
)

audit_clause = Table(
    "audit_scope_clause",
    Base.metadata,
    Column("audit_id", ForeignKey("internal_audit.id"), primary_key=True),
    Column("clause_id", ForeignKey("audit_clause.id"), primary_key=True, index=True),
)

audit_team_member = Table(
    "audit_team_member",
    Base.metadata,
    Column("audit_id", ForeignKey("internal_audit.id"), primary_key=True),
    Column("user_id", ForeignKey("user_account.id"), primary_key=True, index=True),
)


class Audit(Audited, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "internal_audit"
    __audit_label__ = "reference"
    __audit_type_label__ = "Internal audit"
    __audit_state_field__ = "status"
    __audit_field_labels__ = {
        "planned_start": "Planned start",
        "planned_end": "Planned end",
        "lead_auditor_id": "Lead auditor",
        "independence_exception": "Independence exception",
        "independence_conflicts": "Independence conflicts excepted",
        "cancel_reason": "Reason for cancelling",
        "team": "Audit team",
        "processes": "Processes",
        "sites": "Sites",
        "clauses": "Clauses",
    }
    __table_args__ = (
        CheckConstraint("planned_end >= planned_start", name="end_after_start"),
        Index("ix_internal_audit_status_planned_start", "status", "planned_start"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("audit_programme.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    scope: Mapped[str] = mapped_column(Text, default="")
    criteria: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[AuditStatus] = mapped_column(
        enum_type(AuditStatus, "audit_status"), default=AuditStatus.PLANNED
    )
    planned_start: Mapped[date] = mapped_column(Date)
    planned_end: Mapped[date] = mapped_column(Date)
    lead_auditor_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    conclusion: Mapped[str] = mapped_column(Text, default="")
    # A quality lead's justified exception to auditor independence, and the conflicts it covers
    # (one per line), so that a conflict added later is refused again.
    independence_exception: Mapped[str] = mapped_column(Text, default="")
    independence_conflicts: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reporting_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancel_reason: Mapped[str] = mapped_column(Text, default="")

    programme: Mapped[AuditProgramme] = relationship(back_populates="audits")
    lead_auditor: Mapped[User] = relationship()
    team: Mapped[list[User]] = relationship(secondary=audit_team_member, order_by=User.full_name)
    processes: Mapped[list[Process]] = relationship(secondary=audit_process, order_by=Process.name)
    sites: Mapped[list[Site]] = relationship(secondary=audit_site, order_by=Site.name)
    clauses: Mapped[list[Clause]] = relationship(secondary=audit_clause, order_by=Clause.position)
    questions: Mapped[list[AuditQuestion]] = relationship(
        back_populates="audit", order_by="AuditQuestion.position"
    )
    findings: Mapped[list[Finding]] = relationship(
        back_populates="audit", order_by="Finding.number"
    )


class AuditQuestion(Audited, TimestampMixin, VersionedMixin, Base):
    """The audit's own copy of a template question, with the answer recorded against it: later
    edits of the template leave the audit's checklist as it was."""

    __tablename__ = "audit_question"
    __audit_label__ = "text"
    __audit_type_label__ = "Audit checklist question"
    __audit_field_labels__ = {"answered_by_id": "Answered by", "answered_at": "Answered"}
    __table_args__ = (UniqueConstraint("audit_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("internal_audit.id"))
    position: Mapped[int] = mapped_column(Integer)
    template_name: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    clause_id: Mapped[int] = mapped_column(ForeignKey("audit_clause.id"), index=True)
    answer: Mapped[Answer | None] = mapped_column(enum_type(Answer, "audit_answer"))
    evidence: Mapped[str] = mapped_column(Text, default="")
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    audit: Mapped[Audit] = relationship(back_populates="questions")
    clause: Mapped[Clause] = relationship()
    answered_by: Mapped[User | None] = relationship()


class Finding(Audited, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "audit_finding"
    __audit_label__ = "number"
    __audit_type_label__ = "Audit finding"
    __audit_field_labels__ = {"nonconformity_id": "Nonconformity"}
    __table_args__ = (UniqueConstraint("audit_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("internal_audit.id"))
    # 1, 2, 3 … within the audit; shown as AUD-2026-000001/F2.
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[FindingKind] = mapped_column(enum_type(FindingKind, "audit_finding_kind"))
    description: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text, default="")
    clause_id: Mapped[int | None] = mapped_column(ForeignKey("audit_clause.id"), index=True)
    process_id: Mapped[int | None] = mapped_column(ForeignKey("process.id"), index=True)
    question_id: Mapped[int | None] = mapped_column(ForeignKey("audit_question.id"))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    nonconformity_id: Mapped[int | None] = mapped_column(
        ForeignKey("nonconformity.id"), unique=True
    )

    audit: Mapped[Audit] = relationship(back_populates="findings")
    clause: Mapped[Clause | None] = relationship()
    process: Mapped[Process | None] = relationship()
    question: Mapped[AuditQuestion | None] = relationship()
    recorded_by: Mapped[User | None] = relationship()
    # Linked both ways: the nonconformity's page names the finding it was raised from.
    nonconformity: Mapped[Nonconformity | None] = relationship(
        backref=backref("audit_finding", uselist=False)
    )

    @property
    def reference(self) -> str:
        return f"{self.audit.reference}/F{self.number}"
