"""Controlled documents, their revisions, and the read-and-understood assignments of revisions."""

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
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.capa.models import Capa
from app.complaints.models import LabelledEnum
from app.core.audit import Audited
from app.core.db import Base, TimestampMixin, UTCDateTime, VersionedMixin, enum_type, utcnow
from app.organisation.models import Process


class DocumentType(LabelledEnum):
    POLICY = "policy"
    PROCEDURE = "procedure"
    WORK_INSTRUCTION = "work_instruction"
    FORM = "form"
    RECORD_TEMPLATE = "record_template"


# The default number prefix of each type: DOC-<type>-0001 (LOOP_DOCUMENT_PREFIXES overrides).
DEFAULT_PREFIXES = {
    DocumentType.POLICY: "DOC-POL",
    DocumentType.PROCEDURE: "DOC-PRO",
    DocumentType.WORK_INSTRUCTION: "DOC-WI",
    DocumentType.FORM: "DOC-FRM",
    DocumentType.RECORD_TEMPLATE: "DOC-REC",
}


class RevisionStatus(LabelledEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    EFFECTIVE = "effective"
    SUPERSEDED = "superseded"
    OBSOLETE = "obsolete"


class ContentKind(LabelledEnum):
    MARKDOWN = "markdown"
    FILE = "file"


document_process = Table(
    "document_process",
    Base.metadata,
    Column("document_id", ForeignKey("controlled_document.id"), primary_key=True),
    Column("process_id", ForeignKey("process.id"), primary_key=True, index=True),
)


class ControlledDocument(Audited, TimestampMixin, VersionedMixin, Base):
    """A controlled document: its number, title, owner, the processes and roles it concerns (who
    must read it), and its review interval. What it says lives in its revisions."""

    __tablename__ = "controlled_document"
    __audit_label__ = "number"
    __audit_type_label__ = "Controlled document"
    __audit_field_labels__ = {
        "doc_type": "Type",
        "owner_id": "Owner",
        "review_interval_months": "Review interval (months)",
        "review_due": "Review due",
        "reader_roles": "Roles that read it",
    }
    __table_args__ = (
        CheckConstraint(
            "review_interval_months >= 1 AND review_interval_months <= 120",
            name="review_interval_range",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    doc_type: Mapped[DocumentType] = mapped_column(enum_type(DocumentType, "document_type"))
    title: Mapped[str] = mapped_column(String(200))
    owner_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    review_interval_months: Mapped[int] = mapped_column(Integer, default=12)
    # Set when a revision becomes effective: its effective date plus the review interval.
    review_due: Mapped[date | None] = mapped_column(Date, index=True)
    # Roles whose members must read each effective revision, comma-separated ("contributor,…").
    reader_roles: Mapped[str] = mapped_column(String(200), default="")

    owner: Mapped[User] = relationship()
    processes: Mapped[list[Process]] = relationship(
        secondary=document_process, order_by="Process.name"
    )
    revisions: Mapped[list[DocumentRevision]] = relationship(
        back_populates="document", order_by="DocumentRevision.number"
    )

    @property
    def roles(self) -> list[str]:
        return [role for role in self.reader_roles.split(",") if role]


class DocumentRevision(Audited, TimestampMixin, VersionedMixin, Base):
    """One revision of a document: draft → in review → approved → effective → superseded, or
    obsolete. Only a draft's content changes; one revision of a document is effective at a time
    (a partial unique index says so)."""

    __tablename__ = "document_revision"
    __audit_label__ = "label"
    __audit_type_label__ = "Document revision"
    __audit_state_field__ = "status"
    __audit_field_labels__ = {
        "document_id": "Document",
        "capa_id": "Caused by CAPA",
        "author_id": "Author",
        "body_markdown": "Text",
        "file_sha256": "File SHA-256",
        "effective_from": "Effective from",
        "effective_until": "Effective until",
    }
    # Workflow stamps change as the revision moves on; what its signatures vouch for is the
    # content (text or file, reason, CAPA, author), so these are left out of the signed hash.
    __signature_exclude__ = frozenset(
        {"status", "submitted_at", "approved_at", "effective_from", "effective_until"}
    )
    __table_args__ = (
        UniqueConstraint("document_id", "number"),
        Index(
            "ix_document_revision_one_effective",
            "document_id",
            unique=True,
            sqlite_where=text("status = 'effective'"),
            postgresql_where=text("status = 'effective'"),
        ),
        Index("ix_document_revision_status_effective", "status", "effective_from"),
        CheckConstraint(
            "(content_kind = 'file' AND file_sha256 IS NOT NULL) OR content_kind = 'markdown'",
            name="file_content_has_file",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("controlled_document.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(40))  # "DOC-PRO-0001 rev 2", as the trail names it
    status: Mapped[RevisionStatus] = mapped_column(
        enum_type(RevisionStatus, "revision_status"), default=RevisionStatus.DRAFT
    )
    change_reason: Mapped[str] = mapped_column(Text)
    capa_id: Mapped[int | None] = mapped_column(ForeignKey("capa.id"), index=True)
    content_kind: Mapped[ContentKind] = mapped_column(enum_type(ContentKind, "content_kind"))
    body_markdown: Mapped[str] = mapped_column(Text, default="")
    file_sha256: Mapped[str | None] = mapped_column(ForeignKey("stored_file.sha256"))
    filename: Mapped[str | None] = mapped_column(String(255))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    effective_from: Mapped[datetime | None] = mapped_column(UTCDateTime())
    effective_until: Mapped[datetime | None] = mapped_column(UTCDateTime())

    document: Mapped[ControlledDocument] = relationship(back_populates="revisions")
    capa: Mapped[Capa | None] = relationship()
    author: Mapped[User | None] = relationship()


class ReadAcknowledgement(Audited, Base):
    """Read-and-understood training (employee recovery): one person asked to read one effective
    revision by a due date, and when they confirmed they read and understood it."""

    __tablename__ = "read_acknowledgement"
    __audit_type_label__ = "Read and understood"
    __audit_field_labels__ = {
        "revision_id": "Revision",
        "user_id": "Reader",
        "acknowledged_at": "Read and understood",
    }
    __table_args__ = (UniqueConstraint("revision_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("document_revision.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    due_date: Mapped[date] = mapped_column(Date)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    revision: Mapped[DocumentRevision] = relationship()
    user: Mapped[User] = relationship()
