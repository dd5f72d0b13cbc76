"""An attachment: one stored file (by hash) on one quality record, removable only softly."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.core.audit import Audited
from app.core.db import Base, UTCDateTime, utcnow
from app.core.files import StoredFile


class Attachment(Audited, Base):
    """A file on a record (`record_type` is the record's table, `record_id` its id, as the audit
    trail and signatures name records). Removal keeps the row and the bytes: it stamps who
    removed the file, when and why, and the file no longer counts as part of the record."""

    __tablename__ = "attachment"
    __audit_label__ = "filename"
    __audit_type_label__ = "Attachment"
    __audit_field_labels__ = {
        "file_sha256": "SHA-256",
        "record_type": "Attached to (type)",
        "record_id": "Attached to (id)",
        "uploaded_by_id": "Uploaded by",
        "removed_at": "Removed",
        "removed_by_id": "Removed by",
        "removal_reason": "Reason for removal",
    }
    __table_args__ = (
        Index("ix_attachment_record", "record_type", "record_id"),
        CheckConstraint(
            "removed_at IS NULL OR (removal_reason IS NOT NULL AND removed_by_id IS NOT NULL)",
            name="removal_has_reason",
        ),
        CheckConstraint("size > 0", name="size_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_type: Mapped[str] = mapped_column(String(80))
    record_id: Mapped[str] = mapped_column(String(80))
    file_sha256: Mapped[str] = mapped_column(ForeignKey("stored_file.sha256"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(127))
    size: Mapped[int] = mapped_column(BigInteger)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    removal_reason: Mapped[str | None] = mapped_column(Text)

    stored: Mapped[StoredFile] = relationship()
    uploaded_by: Mapped[User | None] = relationship(foreign_keys=[uploaded_by_id])
    removed_by: Mapped[User | None] = relationship(foreign_keys=[removed_by_id])

    @property
    def is_removed(self) -> bool:
        return self.removed_at is not None
