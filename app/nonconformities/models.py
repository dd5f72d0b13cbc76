from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from app.accounts.models import User
from app.complaints.models import Complaint, LabelledEnum
from app.core.audit import Audited
from app.core.db import Base, TimestampMixin, UTCDateTime, VersionedMixin, enum_type
from app.organisation.models import Category, Process

if TYPE_CHECKING:
    from app.capa.models import Capa
    from app.rca.models import RootCauseAnalysis


class NonconformitySource(LabelledEnum):
    CUSTOMER_COMPLAINT = "customer_complaint"
    INTERNAL_AUDIT = "internal_audit"
    PROCESS_MONITORING = "process_monitoring"
    SUPPLIER = "supplier"
    EMPLOYEE_REPORT = "employee_report"
    RECURRING_FAILURE_REVIEW = "recurring_failure_review"


class NonconformityStatus(LabelledEnum):
    OPEN = "open"
    CONTAINED = "contained"
    UNDER_INVESTIGATION = "under_investigation"
    ACTION_PLANNED = "action_planned"
    VERIFYING = "verifying"
    CLOSED = "closed"
    CANCELLED = "cancelled"


complaint_nonconformity = Table(
    "complaint_nonconformity",
    Base.metadata,
    Column("complaint_id", ForeignKey("complaint.id"), primary_key=True),
    Column("nonconformity_id", ForeignKey("nonconformity.id"), primary_key=True, index=True),
)


class Nonconformity(Audited, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "nonconformity"
    __audit_label__ = "reference"
    __audit_type_label__ = "Nonconformity"
    # Linking a CAPA is recorded on the CAPA's events (Capa.nonconformities owns the link).
    __audit_link_mirrors__ = frozenset({"capas"})
    __audit_field_labels__ = {
        "detected_at": "Detected",
        "contained_at": "Contained",
        "closed_at": "Closed",
        "containment_action": "Containment",
        "cancel_reason": "Reason for cancelling",
    }
    __audit_state_field__ = "status"
    __table_args__ = (
        CheckConstraint("severity BETWEEN 1 AND 10", name="severity_range"),
        CheckConstraint("occurrence BETWEEN 1 AND 10", name="occurrence_range"),
        CheckConstraint("detection BETWEEN 1 AND 10", name="detection_range"),
        Index("ix_nonconformity_status_detected_at", "status", "detected_at"),
        Index(
            "ix_nonconformity_process_category_detected_at",
            "process_id",
            "category_id",
            "detected_at",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[NonconformitySource] = mapped_column(
        enum_type(NonconformitySource, "nonconformity_source"), index=True
    )
    status: Mapped[NonconformityStatus] = mapped_column(
        enum_type(NonconformityStatus, "nonconformity_status"), default=NonconformityStatus.OPEN
    )
    process_id: Mapped[int | None] = mapped_column(ForeignKey("process.id"))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("category.id"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime())
    severity: Mapped[int] = mapped_column(Integer)
    occurrence: Mapped[int] = mapped_column(Integer)
    detection: Mapped[int] = mapped_column(Integer)
    containment_action: Mapped[str] = mapped_column(Text, default="")
    contained_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancel_reason: Mapped[str] = mapped_column(Text, default="")

    # The risk priority number, computed by the database so lists can sort and filter on it.
    rpn = column_property(severity * occurrence * detection)

    process: Mapped[Process | None] = relationship()
    category: Mapped[Category | None] = relationship()
    owner: Mapped[User | None] = relationship()
    complaints: Mapped[list[Complaint]] = relationship(
        secondary=complaint_nonconformity, order_by=Complaint.received_at
    )
    analyses: Mapped[list[RootCauseAnalysis]] = relationship(
        back_populates="nonconformity", order_by="RootCauseAnalysis.id"
    )
    capas: Mapped[list[Capa]] = relationship(
        secondary="capa_nonconformity", back_populates="nonconformities", order_by="Capa.id"
    )
