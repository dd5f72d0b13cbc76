from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.complaints.models import LabelledEnum
from app.core.audit import Audited
from app.core.db import Base, TimestampMixin, UTCDateTime, VersionedMixin, enum_type
from app.nonconformities.models import Nonconformity
from app.organisation.models import TQMPrinciple
from app.rca.models import RootCause


class CapaKind(LabelledEnum):
    CORRECTION = "correction"
    CORRECTIVE = "corrective"
    PREVENTIVE = "preventive"


class RecoveryDimension(LabelledEnum):
    PROCESS = "process"
    EMPLOYEE = "employee"


class CapaStatus(LabelledEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    IMPLEMENTED = "implemented"
    VERIFYING = "verifying"
    EFFECTIVE = "effective"
    CLOSED = "closed"
    INEFFECTIVE = "ineffective"


OPEN_CAPA_STATUSES = frozenset(
    {
        CapaStatus.PLANNED,
        CapaStatus.IN_PROGRESS,
        CapaStatus.IMPLEMENTED,
        CapaStatus.VERIFYING,
        CapaStatus.EFFECTIVE,
        CapaStatus.INEFFECTIVE,
    }
)

capa_principle = Table(
    "capa_principle",
    Base.metadata,
    Column("capa_id", ForeignKey("capa.id"), primary_key=True),
    Column("principle_id", ForeignKey("tqm_principle.id"), primary_key=True, index=True),
)

capa_nonconformity = Table(
    "capa_nonconformity",
    Base.metadata,
    Column("capa_id", ForeignKey("capa.id"), primary_key=True),
    Column("nonconformity_id", ForeignKey("nonconformity.id"), primary_key=True, index=True),
)

capa_root_cause = Table(
    "capa_root_cause",
    Base.metadata,
    Column("capa_id", ForeignKey("capa.id"), primary_key=True),
    Column("root_cause_id", ForeignKey("root_cause.id"), primary_key=True, index=True),
)


class Capa(Audited, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "capa"
    __audit_label__ = "reference"
    __audit_type_label__ = "CAPA"
    __audit_field_labels__ = {
        "recovery_dimension": "Recovery",
        "cost": "Estimated cost",
        "implemented_at": "Implemented",
        "closed_at": "Closed",
        "follow_up_of_id": "Follow-up of",
        "principles": "TQM principles",
    }
    __audit_money__ = {"cost": None}
    __audit_state_field__ = "status"
    __table_args__ = (
        CheckConstraint("cost IS NULL OR cost >= 0", name="cost_not_negative"),
        Index("ix_capa_status_due_date", "status", "due_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[CapaKind] = mapped_column(enum_type(CapaKind, "capa_kind"))
    recovery_dimension: Mapped[RecoveryDimension] = mapped_column(
        enum_type(RecoveryDimension, "recovery_dimension")
    )
    status: Mapped[CapaStatus] = mapped_column(
        enum_type(CapaStatus, "capa_status"), default=CapaStatus.PLANNED
    )
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    due_date: Mapped[date | None] = mapped_column(Date, index=True)
    cost: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    implemented_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Who marked it implemented: separation of duties keeps them from signing its effectiveness.
    implemented_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # An ineffective CAPA asks for a follow-up; the follow-up points back at it.
    follow_up_of_id: Mapped[int | None] = mapped_column(ForeignKey("capa.id"), index=True)

    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    implemented_by: Mapped[User | None] = relationship(foreign_keys=[implemented_by_id])
    principles: Mapped[list[TQMPrinciple]] = relationship(
        secondary=capa_principle, order_by=TQMPrinciple.id
    )
    nonconformities: Mapped[list[Nonconformity]] = relationship(
        secondary=capa_nonconformity, order_by=Nonconformity.id, back_populates="capas"
    )
    root_causes: Mapped[list[RootCause]] = relationship(secondary=capa_root_cause)
    follow_up_of: Mapped[Capa | None] = relationship(remote_side=[id])
    trainings: Mapped[list[TrainingAssignment]] = relationship(
        back_populates="capa", order_by="TrainingAssignment.due_date"
    )
    checks: Mapped[list[EffectivenessCheck]] = relationship(
        back_populates="capa", order_by="EffectivenessCheck.id"
    )


class TrainingAssignment(Audited, TimestampMixin, VersionedMixin, Base):
    """Employee recovery: a staff member prepared for the failure situation."""

    __tablename__ = "training_assignment"
    __audit_label__ = "topic"
    __audit_type_label__ = "Training"
    __audit_field_labels__ = {"capa_id": "CAPA", "completed_at": "Completed"}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    capa_id: Mapped[int] = mapped_column(ForeignKey("capa.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    topic: Mapped[str] = mapped_column(String(200))
    due_date: Mapped[date | None] = mapped_column(Date, index=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    capa: Mapped[Capa] = relationship(back_populates="trainings")
    staff: Mapped[User] = relationship()


class CheckMethod(LabelledEnum):
    MANUAL_REVIEW = "manual_review"
    NO_RECURRENCE = "no_recurrence"

    @property
    def label(self) -> str:
        if self is CheckMethod.NO_RECURRENCE:
            return "Automatic: no new complaint or nonconformity with the same process and category"
        return "Manual review"


class CheckResult(LabelledEnum):
    PENDING = "pending"
    PASSED = "passed"
    FAILED = "failed"


class EffectivenessCheck(Audited, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "effectiveness_check"
    __audit_label__ = "criterion"
    __audit_type_label__ = "Effectiveness check"
    __audit_field_labels__ = {
        "capa_id": "CAPA",
        "window_days": "Window (days)",
        "checked_by_id": "Checked by",
        "checked_at": "Checked",
    }
    __table_args__ = (
        CheckConstraint(
            "method <> 'no_recurrence' OR window_days > 0", name="automatic_needs_window"
        ),
        Index("ix_effectiveness_check_result_due_date", "result", "due_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    capa_id: Mapped[int] = mapped_column(ForeignKey("capa.id"), index=True)
    criterion: Mapped[str] = mapped_column(Text)
    method: Mapped[CheckMethod] = mapped_column(enum_type(CheckMethod, "check_method"))
    window_days: Mapped[int | None] = mapped_column(Integer)
    due_date: Mapped[date] = mapped_column(Date)
    result: Mapped[CheckResult] = mapped_column(
        enum_type(CheckResult, "check_result"), default=CheckResult.PENDING
    )
    evidence: Mapped[str] = mapped_column(Text, default="")
    checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    capa: Mapped[Capa] = relationship(back_populates="checks")
    checked_by: Mapped[User | None] = relationship()
