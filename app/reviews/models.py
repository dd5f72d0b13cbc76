"""Management reviews (ISO 9001:2015 clause 9.3): the meeting, its inputs frozen as a snapshot
when the meeting is held, and its outputs (decisions, and actions with owner and due date that
may become CAPAs)."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, Column, Date, ForeignKey, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.capa.models import Capa
from app.complaints.models import LabelledEnum
from app.core.audit import Audited
from app.core.db import Base, TimestampMixin, UTCDateTime, VersionedMixin, enum_type


class ReviewStatus(LabelledEnum):
    DRAFT = "draft"
    HELD = "held"
    MINUTES_APPROVED = "minutes_approved"


class OutputKind(LabelledEnum):
    DECISION = "decision"
    ACTION = "action"


review_attendee = Table(
    "management_review_attendee",
    Base.metadata,
    Column("review_id", ForeignKey("management_review.id"), primary_key=True),
    Column("user_id", ForeignKey("user_account.id"), primary_key=True, index=True),
)


class ManagementReview(Audited, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "management_review"
    __audit_label__ = "reference"
    __audit_type_label__ = "Management review"
    __audit_state_field__ = "status"
    __audit_field_labels__ = {
        "meeting_date": "Meeting date",
        "chair_id": "Chair",
        "period_start": "Period from",
        "period_end": "Period to",
        "external_issues": "Changes in external and internal issues",
        "resources": "Adequacy of resources",
        "risk_actions": "Effectiveness of actions on risks and opportunities",
        "improvement_opportunities": "Opportunities for improvement",
        "inputs_json": "Frozen inputs",
        "charts_json": "Frozen charts",
        "inputs_sha256": "Frozen inputs SHA-256",
        "notes_json": "Notes per input",
        "attendees": "Attendees",
    }
    # The frozen inputs are long JSON: the trail keeps their hash, not the whole text.
    __audit_exclude__ = frozenset({"updated_at", "version", "inputs_json", "charts_json"})
    __table_args__ = (CheckConstraint("period_end >= period_start", name="period_in_order"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[ReviewStatus] = mapped_column(
        enum_type(ReviewStatus, "management_review_status"), default=ReviewStatus.DRAFT
    )
    meeting_date: Mapped[date] = mapped_column(Date, index=True)
    chair_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    agenda: Mapped[str] = mapped_column(Text, default="")
    # Guests who have no account, one a line.
    guests: Mapped[str] = mapped_column(Text, default="")
    # The inputs no data covers: free text, part of the minutes.
    external_issues: Mapped[str] = mapped_column(Text, default="")
    resources: Mapped[str] = mapped_column(Text, default="")
    risk_actions: Mapped[str] = mapped_column(Text, default="")
    improvement_opportunities: Mapped[str] = mapped_column(Text, default="")
    # Set when the meeting is held: the collected inputs (canonical JSON), the charts drawn from
    # them (SVG by name, JSON) and the SHA-256 of the inputs. They never change afterwards.
    held_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    inputs_json: Mapped[str | None] = mapped_column(Text)
    charts_json: Mapped[str | None] = mapped_column(Text)
    inputs_sha256: Mapped[str | None] = mapped_column(String(64))
    # The meeting's note per input section (section key → text), JSON.
    notes_json: Mapped[str] = mapped_column(Text, default="{}")
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    chair: Mapped[User] = relationship()
    attendees: Mapped[list[User]] = relationship(secondary=review_attendee, order_by=User.full_name)
    outputs: Mapped[list[ReviewOutput]] = relationship(
        back_populates="review", order_by="ReviewOutput.number"
    )

    @property
    def inputs(self) -> dict[str, Any]:
        return json.loads(self.inputs_json) if self.inputs_json else {}

    @property
    def charts(self) -> dict[str, str]:
        return json.loads(self.charts_json) if self.charts_json else {}

    @property
    def notes(self) -> dict[str, str]:
        return json.loads(self.notes_json or "{}")

    @property
    def guest_list(self) -> list[str]:
        return [line.strip() for line in (self.guests or "").splitlines() if line.strip()]


class ReviewOutput(Audited, TimestampMixin, VersionedMixin, Base):
    """A decision of the review, or an action with its owner and due date (which may become a
    CAPA); open actions are the first input of the next review."""

    __tablename__ = "management_review_output"
    __audit_label__ = "text"
    __audit_type_label__ = "Management review output"
    __audit_field_labels__ = {
        "owner_id": "Owner",
        "due_date": "Due",
        "capa_id": "CAPA",
        "done_at": "Done",
    }
    __table_args__ = (
        CheckConstraint(
            "kind = 'action' OR (owner_id IS NULL AND due_date IS NULL AND capa_id IS NULL)",
            name="only_actions_are_assigned",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("management_review.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[OutputKind] = mapped_column(enum_type(OutputKind, "review_output_kind"))
    text: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    due_date: Mapped[date | None] = mapped_column(Date)
    capa_id: Mapped[int | None] = mapped_column(ForeignKey("capa.id"), unique=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    review: Mapped[ManagementReview] = relationship(back_populates="outputs")
    owner: Mapped[User | None] = relationship()
    capa: Mapped[Capa | None] = relationship()

    @property
    def reference(self) -> str:
        return (
            f"{self.review.reference}/{'A' if self.kind == OutputKind.ACTION else 'D'}{self.number}"
        )
