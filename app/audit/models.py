"""Signed checkpoints of the audit chain's head (see app.audit.checkpoints)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, UTCDateTime


class AuditCheckpoint(Base):
    """What the chain's head was at one moment, signed with the Ed25519 key kept outside the
    database. Append-only like the events (database triggers refuse UPDATE and DELETE)."""

    __tablename__ = "audit_checkpoint"
    __table_args__ = (
        CheckConstraint("event_count >= 0", name="event_count_not_negative"),
        Index("ix_audit_checkpoint_head_event_id", "head_event_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    event_count: Mapped[int] = mapped_column(Integer, nullable=False)
    # 0 and the genesis hash while the trail is empty.
    head_event_id: Mapped[int] = mapped_column(Integer, nullable=False)
    head_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    # The first 16 hex digits of the SHA-256 of the raw public key that signed it.
    key_id: Mapped[str] = mapped_column(String(16), nullable=False)
    signature: Mapped[str] = mapped_column(String(128), nullable=False)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    # Where it was published besides the database (file, e-mail), for the operator.
    published_to: Mapped[str] = mapped_column(Text, nullable=False, default="")
