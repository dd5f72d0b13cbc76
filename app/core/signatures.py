"""Electronic signatures in the 21 CFR Part 11 style.

A signature records who signed (name and e-mail as they were then), when, with what meaning and for
what purpose, and the SHA-256 of the signed record's content at that moment. A later edit to the
record changes its content hash, and the signature then reads "changed after signature". Checking
the signer's password is the caller's job (app.accounts.services.sign_record); this module keeps
the record of it.

Reopening a signed record voids its signatures: the signature stays (it was given), but it is
marked void with who reopened the record, when and why, and pages and PDFs show it as "void —
superseded by reopen" rather than as a valid signature.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, inspect, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.core.audit import AuditAction, canonical_json, jsonable, record_event, record_type_of
from app.core.db import Base, UTCDateTime, enum_type, utcnow

# Columns that change without changing what was signed.
_VOLATILE = frozenset({"updated_at", "version"})


class SignatureMeaning(enum.StrEnum):
    AUTHORED = "authored"
    REVIEWED = "reviewed"
    APPROVED = "approved"
    VERIFIED = "verified"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class Signature(Base):
    __tablename__ = "electronic_signature"
    __table_args__ = (Index("ix_electronic_signature_record", "record_type", "record_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_type: Mapped[str] = mapped_column(String(80))
    record_id: Mapped[str] = mapped_column(String(80))
    purpose: Mapped[str] = mapped_column(String(80))
    meaning: Mapped[SignatureMeaning] = mapped_column(
        enum_type(SignatureMeaning, "signature_meaning")
    )
    signer_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    signer_name: Mapped[str] = mapped_column(String(200))
    signer_email: Mapped[str] = mapped_column(String(254))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    content_hash: Mapped[str] = mapped_column(String(64))
    # Set when the signed record was reopened: the signature no longer vouches for it.
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    voided_by_name: Mapped[str | None] = mapped_column(String(200))
    void_reason: Mapped[str | None] = mapped_column(Text)

    @property
    def is_void(self) -> bool:
        return self.voided_at is not None

    def manifestation(self) -> str:
        """The printed form: name, time and meaning, as pages and PDFs show it."""
        when = self.signed_at.strftime("%Y-%m-%d %H:%M:%S UTC")
        return f"{self.signer_name} — {self.meaning.label} — {when}"

    def void_notice(self) -> str:
        """For a void signature: "Void — superseded by reopen on … by …: reason"; else ""."""
        if self.voided_at is None:
            return ""
        when = self.voided_at.strftime("%Y-%m-%d %H:%M:%S UTC")
        reason = f": {self.void_reason}" if self.void_reason else ""
        return f"Void — superseded by reopen on {when} by {self.voided_by_name}{reason}"


# Content kept beside a record's own columns that its signatures cover too (the hashes of its
# attachments): each provider gets the record type and id and returns named values — nothing
# when there are none, so a record without such content hashes as it always has.
CoveredContent = Callable[[str, str], dict[str, Any]]
_COVERED_CONTENT: list[CoveredContent] = []


def cover_in_signatures(provider: CoveredContent) -> CoveredContent:
    """Register `provider`: what it returns for a record is part of what signatures cover."""
    if provider not in _COVERED_CONTENT:
        _COVERED_CONTENT.append(provider)
    return provider


def content_hash(record: object) -> str:
    """SHA-256 over the record's column values (bar bookkeeping columns) and the covered content
    registered for it (its attachments' hashes), canonically serialised."""
    state = inspect(record)
    # A model may name workflow stamps its signatures do not vouch for (__signature_exclude__).
    skipped = _VOLATILE | getattr(type(record), "__signature_exclude__", frozenset())
    values = {
        attr.key: jsonable(getattr(record, attr.key))
        for attr in state.mapper.column_attrs
        if attr.key not in skipped
    }
    identity = state.mapper.primary_key_from_instance(record)
    if identity and identity[0] is not None:
        for provider in _COVERED_CONTENT:
            values.update(provider(record_type_of(record), str(identity[0])))
    return hashlib.sha256(canonical_json(values).encode()).hexdigest()


def record_signature(
    session: Session,
    record: object,
    signer: object,
    meaning: SignatureMeaning | str,
    purpose: str,
) -> Signature:
    """Store a signature over `record`'s current content and write a `sign` audit event.

    The caller must already have re-authenticated the signer."""
    session.flush()  # sign what is stored, not unsaved edits
    signature = Signature(
        record_type=record_type_of(record),
        record_id=str(inspect(record).identity[0]),
        purpose=purpose,
        meaning=SignatureMeaning(meaning),
        signer_id=signer.id,  # type: ignore[attr-defined]
        signer_name=signer.full_name,  # type: ignore[attr-defined]
        signer_email=signer.email,  # type: ignore[attr-defined]
        signed_at=utcnow(),
        content_hash=content_hash(record),
    )
    session.add(signature)
    session.flush()
    record_event(
        session,
        AuditAction.SIGN,
        signature.record_type,
        signature.record_id,
        changes={
            "purpose": purpose,
            "meaning": signature.meaning.value,
            "content_hash": signature.content_hash,
        },
    )
    return signature


def changed_after_signature(signature: Signature, record: object) -> bool:
    return content_hash(record) != signature.content_hash


def void_signatures(session: Session, record: object, user: Any, reason: str) -> list[Signature]:
    """Mark `record`'s valid signatures void because it was reopened by `user` for `reason`,
    each with an audit event (the signature's void time, who and why); returns them."""
    state = inspect(record)
    valid = list(
        session.scalars(
            select(Signature)
            .where(
                Signature.record_type == record_type_of(record),
                Signature.record_id == str(state.identity[0]),
                Signature.voided_at.is_(None),
            )
            .order_by(Signature.id)
        )
    )
    now = utcnow()
    name = getattr(user, "full_name", None) or "the system"
    for signature in valid:
        signature.voided_at = now
        signature.voided_by_name = name
        signature.void_reason = reason
    session.flush()
    for signature in valid:
        record_event(
            session,
            AuditAction.UPDATE,
            "electronic_signature",
            signature.id,
            changes={
                "signed_record": f"{signature.record_type} {signature.record_id}",
                "purpose": signature.purpose,
                "voided_at": now,
                "voided_by": name,
            },
            reason=reason,
        )
    return valid
