"""Archived reports: PDFs kept as rendered, with the hashes that prove they are unchanged."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column

from app.core.audit import Audited
from app.core.db import Base, UTCDateTime, utcnow


class ArchivedReport(Audited, Base):
    """One rendered report kept for good, e.g. the monthly quality review pack.

    The PDF bytes live in the database (not in the instance folder): they are then backed up,
    replicated and transacted with the row that carries their hash, and every web worker and
    scheduler on any host reads the same archive. A pack is a few hundred kilobytes and there is
    one a month. The row is written once and never changed; its creation is audited (the bytes
    left out of the event, their SHA-256 in)."""

    __tablename__ = "archived_report"
    __audit_label__ = "title"
    __audit_type_label__ = "Archived report"
    __table_args__ = (
        UniqueConstraint("kind", "period_start", "period_end"),
        CheckConstraint("period_end >= period_start", name="period_ordered"),
    )
    __audit_exclude__ = frozenset({"pdf"})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    report_id: Mapped[str] = mapped_column(String(40), unique=True)
    filename: Mapped[str] = mapped_column(String(200))
    # SHA-256 of the report's data (the attached JSON, printed in every footer) and of the PDF.
    data_sha256: Mapped[str] = mapped_column(String(64))
    file_sha256: Mapped[str] = mapped_column(String(64))
    pages: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(Integer)
    generated_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    job_run_id: Mapped[int | None] = mapped_column(ForeignKey("job_run.id"))
    pdf: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))
