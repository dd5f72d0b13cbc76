"""The strategy workspace's records: assessment entries kept as revisions, and the operating model
(departments, the processes they run, the recoveries they own, capabilities, stakeholders), plus
the links from initiatives to the departments that carry them and the CAPAs that serve them."""

from __future__ import annotations

from datetime import date

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.complaints.models import LabelledEnum
from app.core.audit import Audited
from app.core.db import Base, TimestampMixin, VersionedMixin, enum_type
from app.metrics.models import Initiative, Objective
from app.organisation.models import Process, Site


class FactorKind(LabelledEnum):
    """The four kinds of factor the method's organisational assessment looks at."""

    BUSINESS_NEED = "business_need"
    ORGANISATIONAL_DRIVER = "organisational_driver"
    TECHNOLOGY_DRIVER = "technology_driver"
    EXTERNAL_FACTOR = "external_factor"


class Impact(LabelledEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def weight(self) -> int:
        return {"low": 1, "medium": 2, "high": 3}[self.value]


class Recovery(LabelledEnum):
    """The three recoveries of the method (docs: DESIGN.md, "The three recoveries")."""

    CUSTOMER = "customer"
    PROCESS = "process"
    EMPLOYEE = "employee"


class StakeholderKind(LabelledEnum):
    INTERNAL = "internal"
    EXTERNAL = "external"


revision_objective = Table(
    "assessment_revision_objective",
    Base.metadata,
    Column("revision_id", ForeignKey("assessment_revision.id"), primary_key=True),
    Column("objective_id", ForeignKey("objective.id"), primary_key=True, index=True),
)

revision_initiative = Table(
    "assessment_revision_initiative",
    Base.metadata,
    Column("revision_id", ForeignKey("assessment_revision.id"), primary_key=True),
    Column("initiative_id", ForeignKey("initiative.id"), primary_key=True, index=True),
)

department_process = Table(
    "department_process",
    Base.metadata,
    Column("department_id", ForeignKey("department.id"), primary_key=True),
    Column("process_id", ForeignKey("process.id"), primary_key=True, index=True),
)

department_initiative = Table(
    "department_initiative",
    Base.metadata,
    Column("department_id", ForeignKey("department.id"), primary_key=True),
    Column("initiative_id", ForeignKey("initiative.id"), primary_key=True, index=True),
)

initiative_capa = Table(
    "initiative_capa",
    Base.metadata,
    Column("initiative_id", ForeignKey("initiative.id"), primary_key=True),
    Column("capa_id", ForeignKey("capa.id"), primary_key=True, index=True),
)


class AssessmentEntry(Audited, TimestampMixin, VersionedMixin, Base):
    """One factor of the organisational assessment (for the organisation, or one site). What it
    says lives in its revisions: a change adds a revision, so what was believed on any day
    stays readable."""

    __tablename__ = "assessment_entry"
    __audit_label__ = "title"
    __audit_type_label__ = "Assessment entry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[FactorKind] = mapped_column(enum_type(FactorKind, "factor_kind"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"), index=True)

    site: Mapped[Site | None] = relationship()
    revisions: Mapped[list[AssessmentRevision]] = relationship(
        back_populates="entry", order_by="AssessmentRevision.number"
    )


class AssessmentRevision(Audited, TimestampMixin, Base):
    """What the assessment said about an entry from `assessed_on` on: never edited, only
    followed by a newer revision."""

    __tablename__ = "assessment_revision"
    __audit_label__ = "number"
    __audit_type_label__ = "Assessment revision"
    __table_args__ = (
        UniqueConstraint("entry_id", "number"),
        CheckConstraint("number >= 1", name="number_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("assessment_entry.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    assessed_on: Mapped[date] = mapped_column(Date, index=True)
    statement: Mapped[str] = mapped_column(Text)
    impact: Mapped[Impact] = mapped_column(enum_type(Impact, "factor_impact"))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    entry: Mapped[AssessmentEntry] = relationship(back_populates="revisions")
    recorded_by: Mapped[User | None] = relationship()
    objectives: Mapped[list[Objective]] = relationship(
        secondary=revision_objective, order_by=Objective.id
    )
    initiatives: Mapped[list[Initiative]] = relationship(
        secondary=revision_initiative, order_by=Initiative.id
    )


class Department(Audited, TimestampMixin, VersionedMixin, Base):
    """A department of the operating model: its head, the processes it runs, the initiatives it
    carries and the recoveries it owns."""

    __tablename__ = "department"
    __audit_label__ = "name"
    __audit_type_label__ = "Department"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    head_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)

    head: Mapped[User | None] = relationship()
    processes: Mapped[list[Process]] = relationship(
        secondary=department_process, order_by=Process.name
    )
    initiatives: Mapped[list[Initiative]] = relationship(
        secondary=department_initiative, order_by=Initiative.id
    )
    recoveries: Mapped[list[RecoveryOwnership]] = relationship(
        back_populates="department", cascade="all, delete-orphan"
    )

    @property
    def recovery_kinds(self) -> list[Recovery]:
        return sorted((item.recovery for item in self.recoveries), key=list(Recovery).index)


class RecoveryOwnership(Audited, Base):
    """That a department owns (part of) one of the three recoveries."""

    __tablename__ = "recovery_ownership"
    __audit_type_label__ = "Recovery ownership"
    __table_args__ = (UniqueConstraint("department_id", "recovery"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    recovery: Mapped[Recovery] = mapped_column(enum_type(Recovery, "recovery_kind"))

    department: Mapped[Department] = relationship(back_populates="recoveries")


class Capability(Audited, TimestampMixin, Base):
    """Something the organisation must be able to do for the strategy (e.g. "refund within a
    day"), held by a department where one holds it."""

    __tablename__ = "capability"
    __audit_label__ = "name"
    __audit_type_label__ = "Capability"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)

    department: Mapped[Department | None] = relationship()


class Stakeholder(Audited, TimestampMixin, Base):
    """Someone the strategy affects or needs: customers, staff, suppliers, regulators."""

    __tablename__ = "stakeholder"
    __audit_label__ = "name"
    __audit_type_label__ = "Stakeholder"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[StakeholderKind] = mapped_column(enum_type(StakeholderKind, "stakeholder_kind"))
    interest: Mapped[str] = mapped_column(Text, default="")
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)

    department: Mapped[Department | None] = relationship()
