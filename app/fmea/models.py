"""Process FMEAs: the worksheet header, its rows (step → failure mode → effect → cause → controls,
rated S/O/D), the preventive CAPAs raised from a row, and the approved revisions kept to read."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

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
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.capa.models import Capa
from app.core.audit import Audited
from app.core.db import Base, TimestampMixin, UTCDateTime, VersionedMixin
from app.fmea.action_priority import ActionPriority, action_priority, risk_priority_number
from app.organisation.models import Category, Process

fmea_row_category = Table(
    "fmea_row_category",
    Base.metadata,
    Column("row_id", ForeignKey("fmea_row.id"), primary_key=True),
    Column("category_id", ForeignKey("category.id"), primary_key=True, index=True),
)


class Fmea(Audited, TimestampMixin, VersionedMixin, Base):
    """One process FMEA (for a process, or one step of it). `revision` is the number the working
    copy will carry when next approved; approved revisions are kept as `FmeaRevision`s."""

    __tablename__ = "fmea"
    __audit_label__ = "reference"
    __audit_type_label__ = "FMEA"
    __audit_field_labels__ = {
        "process_id": "Process",
        "process_step": "Process step",
        "prepared_on": "Prepared on",
        "next_review_on": "Next review",
        "owner_id": "Owner",
    }

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    process_id: Mapped[int] = mapped_column(ForeignKey("process.id"), index=True)
    process_step: Mapped[str] = mapped_column(String(200), default="")
    team: Mapped[str] = mapped_column(Text, default="")
    scope: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    prepared_on: Mapped[date] = mapped_column(Date)
    next_review_on: Mapped[date | None] = mapped_column(Date)

    process: Mapped[Process] = relationship()
    owner: Mapped[User | None] = relationship()
    rows: Mapped[list[FmeaRow]] = relationship(
        back_populates="fmea", order_by="FmeaRow.position, FmeaRow.id"
    )
    revisions: Mapped[list[FmeaRevision]] = relationship(
        back_populates="fmea", order_by="FmeaRevision.number"
    )

    @property
    def revision_label(self) -> str:
        return f"{self.reference} rev {self.revision}"


_RATINGS = ("severity", "occurrence", "detection")


class FmeaRow(Audited, TimestampMixin, VersionedMixin, Base):
    """One line of the worksheet. The revised ratings are recorded once a preventive CAPA raised
    from the row is effective, so the FMEA shows the risk before and after."""

    __tablename__ = "fmea_row"
    __audit_label__ = "failure_mode"
    __audit_type_label__ = "FMEA row"
    __audit_field_labels__ = {
        "fmea_id": "FMEA",
        "process_step": "Process step / function",
        "failure_mode": "Failure mode",
        "effect": "Failure effect",
        "cause": "Failure cause",
        "prevention_controls": "Current prevention controls",
        "detection_controls": "Current detection controls",
        "recommended_action": "Recommended action",
        "revised_severity": "Revised severity",
        "revised_occurrence": "Revised occurrence",
        "revised_detection": "Revised detection",
        "revised_at": "Revised",
        "categories": "Failure categories",
    }
    __table_args__ = (
        *(CheckConstraint(f"{r} BETWEEN 1 AND 10", name=f"{r}_range") for r in _RATINGS),
        *(
            CheckConstraint(
                f"revised_{r} IS NULL OR revised_{r} BETWEEN 1 AND 10",
                name=f"revised_{r}_range",
            )
            for r in _RATINGS
        ),
        CheckConstraint(
            "(revised_severity IS NULL) = (revised_occurrence IS NULL) "
            "AND (revised_severity IS NULL) = (revised_detection IS NULL)",
            name="revised_all_or_none",
        ),
        Index("ix_fmea_row_fmea_position", "fmea_id", "position"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fmea_id: Mapped[int] = mapped_column(ForeignKey("fmea.id"))
    position: Mapped[int] = mapped_column(Integer, default=1)
    process_step: Mapped[str] = mapped_column(String(200), default="")
    failure_mode: Mapped[str] = mapped_column(String(300))
    effect: Mapped[str] = mapped_column(Text, default="")
    cause: Mapped[str] = mapped_column(Text, default="")
    prevention_controls: Mapped[str] = mapped_column(Text, default="")
    detection_controls: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[int] = mapped_column(Integer)
    occurrence: Mapped[int] = mapped_column(Integer)
    detection: Mapped[int] = mapped_column(Integer)
    recommended_action: Mapped[str] = mapped_column(Text, default="")
    revised_severity: Mapped[int | None] = mapped_column(Integer)
    revised_occurrence: Mapped[int | None] = mapped_column(Integer)
    revised_detection: Mapped[int | None] = mapped_column(Integer)
    revised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    fmea: Mapped[Fmea] = relationship(back_populates="rows")
    categories: Mapped[list[Category]] = relationship(
        secondary=fmea_row_category, order_by=Category.name
    )
    actions: Mapped[list[FmeaAction]] = relationship(back_populates="row", order_by="FmeaAction.id")

    @property
    def rpn(self) -> int:
        return risk_priority_number(self.severity, self.occurrence, self.detection)

    @property
    def ap(self) -> ActionPriority:
        return action_priority(self.severity, self.occurrence, self.detection)

    @property
    def is_revised(self) -> bool:
        return self.revised_severity is not None

    @property
    def revised_rpn(self) -> int | None:
        if self.revised_severity is None:
            return None
        return risk_priority_number(
            self.revised_severity, self.revised_occurrence or 0, self.revised_detection or 0
        )

    @property
    def revised_ap(self) -> ActionPriority | None:
        if self.revised_severity is None:
            return None
        return action_priority(
            self.revised_severity, self.revised_occurrence or 0, self.revised_detection or 0
        )


class FmeaAction(Audited, TimestampMixin, Base):
    """A recommended action of a row that became a preventive CAPA: the link lives here, on the
    FMEA side, so the CAPA table knows nothing of FMEAs."""

    __tablename__ = "fmea_action"
    __audit_type_label__ = "FMEA action"
    __audit_field_labels__ = {"row_id": "FMEA row", "capa_id": "CAPA"}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    row_id: Mapped[int] = mapped_column(ForeignKey("fmea_row.id"), index=True)
    capa_id: Mapped[int] = mapped_column(ForeignKey("capa.id"), unique=True)

    row: Mapped[FmeaRow] = relationship(back_populates="actions")
    capa: Mapped[Capa] = relationship()


class FmeaRevision(Audited, TimestampMixin, Base):
    """An approved revision: the header and rows as they were approved (canonical JSON), signed
    by the approver. It never changes afterwards; the FMEA's working copy moves on."""

    __tablename__ = "fmea_revision"
    __audit_label__ = "label"
    __audit_type_label__ = "FMEA revision"
    __audit_field_labels__ = {
        "fmea_id": "FMEA",
        "approved_by_id": "Approved by",
        "approved_at": "Approved",
        "change_note": "What changed",
        "snapshot_sha256": "Snapshot SHA-256",
    }
    __audit_exclude__ = frozenset({"updated_at", "snapshot_json"})
    __table_args__ = (UniqueConstraint("fmea_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fmea_id: Mapped[int] = mapped_column(ForeignKey("fmea.id"))
    number: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(40))
    change_note: Mapped[str] = mapped_column(Text, default="")
    snapshot_json: Mapped[str] = mapped_column(Text)
    snapshot_sha256: Mapped[str] = mapped_column(String(64))
    approved_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime())

    fmea: Mapped[Fmea] = relationship(back_populates="revisions")
    approved_by: Mapped[User] = relationship()

    @property
    def snapshot(self) -> dict[str, Any]:
        return json.loads(self.snapshot_json)
