from __future__ import annotations

import enum
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.core.audit import Audited
from app.core.audit_labels import enum_label
from app.core.db import Base, TimestampMixin, UTCDateTime, VersionedMixin, enum_type
from app.organisation.models import Category, Customer, Process


class LabelledEnum(enum.StrEnum):
    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class Channel(LabelledEnum):
    PHONE = "phone"
    EMAIL = "email"
    WEB_FORM = "web_form"
    CHAT = "chat"
    SOCIAL_MEDIA = "social_media"
    IN_PERSON = "in_person"
    LETTER = "letter"
    API = "api"
    REFERRAL = "referral"  # passed on by another body (a regulator, an ombudsman)
    FAX = "fax"

    @property
    def label(self) -> str:
        return (
            "E-mail" if self is Channel.EMAIL else ("API" if self is Channel.API else super().label)
        )


class Severity(LabelledEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class ComplaintStatus(LabelledEnum):
    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    INVESTIGATING = "investigating"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"


class RetentionStatus(LabelledEnum):
    UNKNOWN = "unknown"
    STAYED = "stayed"
    LEFT = "left"


def seconds_between(later: datetime | None, earlier: datetime | None) -> int | None:
    """`later - earlier` in whole seconds, rounded to the nearest (halves up), None when either is
    unset. Computed from whole microseconds, exactly as the migration's backfill does in SQL."""
    if later is None or earlier is None:
        return None
    microseconds = (later - earlier) // timedelta(microseconds=1)
    return (microseconds + 500_000) // 1_000_000


def complaint_durations(
    received_at: datetime | None,
    first_response_at: datetime | None,
    resolved_at: datetime | None,
) -> dict[str, int | None]:
    """The stored durations of a complaint with these times: what bulk inserts (demo seeding,
    import) must set beside the times; the ORM sets them itself on every insert and update."""
    return {
        "first_response_seconds": seconds_between(first_response_at, received_at),
        "resolution_seconds": seconds_between(resolved_at, received_at),
    }


class Complaint(Audited, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "complaint"
    __audit_state_field__ = "status"
    # The stored durations follow from the times, which are audited themselves.
    __audit_exclude__ = Audited.__audit_exclude__ | {"first_response_seconds", "resolution_seconds"}
    __audit_label__ = "reference"
    __audit_type_label__ = "Complaint"
    __audit_field_labels__ = {
        "product_or_service": "Product or service",
        "csat_score": "Satisfaction (CSAT)",
        "csat_comment": "Satisfaction comment",
        "csat_recorded_at": "Satisfaction recorded",
        "escalation_level": "Escalation level",
        "escalated_by_id": "Escalated by",
        "escalated_at": "Escalated",
        "first_response_at": "First response",
        "resolved_at": "Resolved",
        "closed_at": "Closed",
        "received_at": "Received",
        "first_contact_resolution": "Resolved at first contact",
        "retention_status": "Retention",
        "retention_follow_up_days": "Retention follow-up (days)",
        "retention_checked_at": "Retention checked",
        "timely_response": "Timely response",
        "disputed": "Disputed by the customer",
        "public_response": "Company's public response",
        "region": "Customer's region",
        "tags": "Tags",
        "company_response": "Company's response",
    }
    __table_args__ = (
        UniqueConstraint("source_system", "external_id"),
        CheckConstraint("escalation_level BETWEEN 0 AND 3", name="escalation_level_range"),
        CheckConstraint("csat_score IS NULL OR csat_score BETWEEN 1 AND 5", name="csat_range"),
        Index("ix_complaint_status_received_at", "status", "received_at"),
        Index(
            "ix_complaint_process_category_received_at", "process_id", "category_id", "received_at"
        ),
        # The list's commonest narrowing: one process, some statuses, newest first.
        Index("ix_complaint_process_status_received_at", "process_id", "status", "received_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    channel: Mapped[Channel] = mapped_column(enum_type(Channel, "channel"), index=True)
    severity: Mapped[Severity] = mapped_column(enum_type(Severity, "severity"), index=True)
    status: Mapped[ComplaintStatus] = mapped_column(
        enum_type(ComplaintStatus, "complaint_status"), default=ComplaintStatus.RECEIVED
    )
    product_or_service: Mapped[str] = mapped_column(String(200), default="")
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"), index=True)
    process_id: Mapped[int | None] = mapped_column(ForeignKey("process.id"))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("category.id"), index=True)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)

    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    escalated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # Set by workflow transitions, never typed by hand.
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # None: not known (an import whose source does not say); the FCR rate leaves such out. The
    # complaint services start their own complaints at False, and resolving sets it.
    first_contact_resolution: Mapped[bool | None] = mapped_column(Boolean)
    # first_response_at − received_at and resolved_at − received_at in whole seconds (NULL while
    # unset), derived from the times on every ORM flush (see `_keep_durations`) and by bulk
    # inserts through `complaint_durations`: the KPIs average and rank integers instead of
    # parsing timestamps (docs/metrics.md).
    first_response_seconds: Mapped[int | None] = mapped_column(Integer)
    resolution_seconds: Mapped[int | None] = mapped_column(Integer)

    csat_score: Mapped[int | None] = mapped_column(Integer)
    csat_comment: Mapped[str] = mapped_column(Text, default="")
    csat_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    retention_status: Mapped[RetentionStatus] = mapped_column(
        enum_type(RetentionStatus, "retention_status"), default=RetentionStatus.UNKNOWN
    )
    retention_follow_up_days: Mapped[int | None] = mapped_column(Integer)
    retention_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # Outcomes as the source system recorded them (docs/quality-loop.md, "Source outcomes"): None
    # is unknown, and the timely-response and dispute rates leave such complaints out.
    timely_response: Mapped[bool | None] = mapped_column(Boolean)
    disputed: Mapped[bool | None] = mapped_column(Boolean)
    public_response: Mapped[str | None] = mapped_column(Text)
    region: Mapped[str | None] = mapped_column(String(60))
    # The source's own labels ("Older American, Servicemember") and its response to the customer
    # ("Closed with explanation"), as the file gives them; NULL when it gives none.
    tags: Mapped[str | None] = mapped_column(String(500))
    company_response: Mapped[str | None] = mapped_column(String(200))

    # Where the complaint came from when another system pushed it in (API, import).
    source_system: Mapped[str | None] = mapped_column(String(60))
    external_id: Mapped[str | None] = mapped_column(String(120))

    customer: Mapped[Customer | None] = relationship()
    process: Mapped[Process | None] = relationship()
    category: Mapped[Category | None] = relationship()
    reporter: Mapped[User | None] = relationship(foreign_keys=[reporter_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    escalated_by: Mapped[User | None] = relationship(foreign_keys=[escalated_by_id])
    recovery_actions: Mapped[list[RecoveryAction]] = relationship(
        back_populates="complaint", order_by="RecoveryAction.done_at"
    )


@event.listens_for(Complaint, "before_insert")
@event.listens_for(Complaint, "before_update")
def _keep_durations(mapper: object, connection: object, complaint: Complaint) -> None:
    """Every insert and update through the ORM (workflow transitions, edits, the API) stores the
    durations that follow from the complaint's times, so they never drift from them."""
    durations = complaint_durations(
        complaint.received_at, complaint.first_response_at, complaint.resolved_at
    )
    for key, value in durations.items():
        if getattr(complaint, key) != value:
            setattr(complaint, key, value)


class RecoveryKind(LabelledEnum):
    APOLOGY = "apology"
    EXPLANATION = "explanation"
    REFUND = "refund"
    REPLACEMENT = "replacement"
    COMPENSATION = "compensation"
    GOODWILL = "goodwill"
    OTHER = "other"


MONEY_RECOVERY_KINDS = frozenset(
    {RecoveryKind.REFUND, RecoveryKind.COMPENSATION, RecoveryKind.GOODWILL}
)


class RecoveryAction(Audited, TimestampMixin, Base):
    """Customer recovery: what was done to make the customer whole, and what it cost."""

    __tablename__ = "recovery_action"
    __audit_type_label__ = "Recovery action"
    __audit_field_labels__ = {"kind": "Recovery", "done_at": "Done", "done_by_id": "Done by"}
    # The amount is shown with its currency (app.core.audit_display).
    __audit_money__ = {"amount": "currency"}
    __table_args__ = (
        CheckConstraint("amount IS NULL OR amount >= 0", name="amount_not_negative"),
        CheckConstraint(
            "(amount IS NULL) = (currency IS NULL)", name="amount_and_currency_together"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id"), index=True)
    kind: Mapped[RecoveryKind] = mapped_column(enum_type(RecoveryKind, "recovery_kind"))
    description: Mapped[str] = mapped_column(Text, default="")
    amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    done_at: Mapped[datetime] = mapped_column(UTCDateTime())
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    complaint: Mapped[Complaint] = relationship(back_populates="recovery_actions")
    done_by: Mapped[User | None] = relationship()

    @classmethod
    def audit_label_expression(cls) -> Any:
        return enum_label(cls.kind, RecoveryKind)

    @property
    def audit_label(self) -> str:
        return RecoveryKind(self.kind).label
