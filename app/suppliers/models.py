"""Suppliers, the failures attributed to them, their corrective action requests (SCARs) and the
single-purpose links through which a supplier answers a SCAR without an account."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.capa.models import Capa
from app.complaints.models import Complaint, LabelledEnum
from app.core.audit import Audited
from app.core.db import Base, TimestampMixin, UTCDateTime, VersionedMixin, enum_type, utcnow
from app.nonconformities.models import Nonconformity
from app.organisation.models import Process


class SupplierStatus(LabelledEnum):
    APPROVED = "approved"
    CONDITIONAL = "conditional"
    DISQUALIFIED = "disqualified"


class ScarStatus(LabelledEnum):
    # Sent to the supplier, waiting for their answer.
    AWAITING_RESPONSE = "awaiting_response"
    ANSWERED = "answered"
    # Returned to the supplier with the quality lead's comments: a new answer is due.
    RETURNED = "returned"
    ACCEPTED = "accepted"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return {
            "awaiting_response": "Awaiting response",
            "answered": "Answered",
            "returned": "Returned to supplier",
            "accepted": "Accepted",
            "cancelled": "Cancelled",
        }[self.value]


# The states in which the supplier owes an answer (a valid link may exist).
WAITING_FOR_SUPPLIER = (ScarStatus.AWAITING_RESPONSE, ScarStatus.RETURNED)
OPEN_SCAR_STATES = (ScarStatus.AWAITING_RESPONSE, ScarStatus.ANSWERED, ScarStatus.RETURNED)


supplier_process = Table(
    "supplier_process",
    Base.metadata,
    Column("supplier_id", ForeignKey("supplier.id"), primary_key=True),
    Column("process_id", ForeignKey("process.id"), primary_key=True, index=True),
)


class Supplier(Audited, TimestampMixin, VersionedMixin, Base):
    """An external provider (ISO 9001 clause 8.4): who they are, whom to write to, which of our
    processes they supply, and whether we may buy from them."""

    __tablename__ = "supplier"
    __audit_label__ = "name"
    __audit_type_label__ = "Supplier"
    __audit_state_field__ = "status"
    __audit_field_labels__ = {
        "contact_email": "Contact e-mail",
        "contact_name": "Contact name",
        "status_reason": "Reason for the approval status",
        "status_since": "Approval status since",
        "processes": "Processes supplied",
    }
    __table_args__ = (Index("ix_supplier_status_name", "status", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    supplies: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[SupplierStatus] = mapped_column(
        enum_type(SupplierStatus, "supplier_status"), default=SupplierStatus.APPROVED
    )
    status_reason: Mapped[str] = mapped_column(Text, default="")
    status_since: Mapped[date] = mapped_column(Date)

    processes: Mapped[list[Process]] = relationship(
        secondary=supplier_process, order_by=Process.name
    )


class NonconformityAttribution(Audited, Base):
    """A nonconformity caused by a supplier (at most one supplier per nonconformity)."""

    __tablename__ = "supplier_nonconformity"
    __audit_type_label__ = "Supplier attribution"
    __audit_field_labels__ = {"supplier_id": "Supplier", "nonconformity_id": "Nonconformity"}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("supplier.id"), index=True)
    nonconformity_id: Mapped[int] = mapped_column(ForeignKey("nonconformity.id"), unique=True)
    attributed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    supplier: Mapped[Supplier] = relationship()
    nonconformity: Mapped[Nonconformity] = relationship()


class ComplaintAttribution(Audited, Base):
    """A complaint caused by a supplier (at most one supplier per complaint). A link table, not a
    column on `complaint`, so the complaint table (and its full-text triggers) stays as it is."""

    __tablename__ = "supplier_complaint"
    __audit_type_label__ = "Supplier attribution"
    __audit_field_labels__ = {"supplier_id": "Supplier", "complaint_id": "Complaint"}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("supplier.id"), index=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id"), unique=True)
    attributed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    supplier: Mapped[Supplier] = relationship()
    complaint: Mapped[Complaint] = relationship()


class Scar(Audited, TimestampMixin, VersionedMixin, Base):
    """A supplier corrective action request: raised from a nonconformity attributed to the
    supplier, answered by the supplier in 8D form, accepted (its corrective action becomes a
    CAPA on the nonconformity) or returned with comments."""

    __tablename__ = "scar"
    __audit_label__ = "reference"
    __audit_type_label__ = "Supplier corrective action request"
    __audit_state_field__ = "status"
    __audit_field_labels__ = {
        "supplier_id": "Supplier",
        "nonconformity_id": "Nonconformity",
        "owner_id": "Owner",
        "due_date": "Response due",
        "root_cause": "Root cause",
        "corrective_action": "Corrective action",
        "review_comments": "Review comments",
        "answered_by": "Answered by",
        "answered_at": "Answered",
        "first_answered_at": "First answered",
        "capa_id": "CAPA",
    }
    __audit_bookkeeping__ = frozenset({"reminded_due_on", "reminded_overdue_on"})
    __table_args__ = (
        Index("ix_scar_status_due_date", "status", "due_date"),
        Index("ix_scar_supplier_id_status", "supplier_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("supplier.id"))
    nonconformity_id: Mapped[int] = mapped_column(ForeignKey("nonconformity.id"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    status: Mapped[ScarStatus] = mapped_column(
        enum_type(ScarStatus, "scar_status"), default=ScarStatus.AWAITING_RESPONSE
    )
    # What the supplier is told: the problem in their terms (nothing else of ours is shown).
    problem: Mapped[str] = mapped_column(Text)
    due_date: Mapped[date] = mapped_column(Date)
    # The supplier's answer in 8D form.
    containment: Mapped[str] = mapped_column(Text, default="")
    root_cause: Mapped[str] = mapped_column(Text, default="")
    corrective_action: Mapped[str] = mapped_column(Text, default="")
    verification: Mapped[str] = mapped_column(Text, default="")
    answered_by: Mapped[str] = mapped_column(String(200), default="")
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    review_comments: Mapped[str] = mapped_column(Text, default="")
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    capa_id: Mapped[int | None] = mapped_column(ForeignKey("capa.id"), index=True)
    # Reminders go out once per due date (moving the due date re-arms them).
    reminded_due_on: Mapped[date | None] = mapped_column(Date)
    reminded_overdue_on: Mapped[date | None] = mapped_column(Date)

    supplier: Mapped[Supplier] = relationship()
    nonconformity: Mapped[Nonconformity] = relationship()
    owner: Mapped[User] = relationship()
    capa: Mapped[Capa | None] = relationship()
    links: Mapped[list[ScarLink]] = relationship(back_populates="scar", order_by="ScarLink.id")


class ScarLink(Audited, Base):
    """A single-purpose link to a SCAR's response page: the token is random, only its SHA-256 is
    stored, it expires, it can be revoked, and it is spent by the answer it carries."""

    __tablename__ = "scar_link"
    __audit_type_label__ = "SCAR response link"
    __audit_redact__ = frozenset({"token_hash"})
    __audit_field_labels__ = {
        "expires_at": "Expires",
        "used_at": "Used",
        "revoked_at": "Revoked",
        "revoke_reason": "Reason for revoking",
    }
    __table_args__ = (CheckConstraint("expires_at > created_at", name="expires_after_created"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scar_id: Mapped[int] = mapped_column(ForeignKey("scar.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoke_reason: Mapped[str] = mapped_column(String(200), default="")

    scar: Mapped[Scar] = relationship(back_populates="links")
