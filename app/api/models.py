from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.core.audit import Audited
from app.core.db import Base, TimestampMixin, UTCDateTime, utcnow


class ApiToken(Audited, TimestampMixin, Base):
    """A credential of one named integration. Only the SHA-256 of the token is kept; the token
    itself is shown once, when it is created. `prefix` (its first characters) tells tokens apart
    on the admin page without revealing them."""

    __tablename__ = "api_token"
    __audit_label__ = "name"
    __audit_type_label__ = "API token"
    # Every call stamps last_used_at: that is usage, not a change worth an audit event.
    __audit_exclude__ = frozenset({"updated_at", "last_used_at"})
    __audit_redact__ = frozenset({"token_hash"})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    # Comma-separated, sorted: "intake,read".
    scopes: Mapped[str] = mapped_column(String(100))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(scope for scope in self.scopes.split(",") if scope)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdempotencyRecord(Base):
    """The first answer to a POST sent with an `Idempotency-Key`, replayed when the same token
    sends the same key again. `request_hash` tells a true retry from a reuse of the key for a
    different request."""

    __tablename__ = "api_idempotency_record"
    __table_args__ = (UniqueConstraint("token_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_token.id"))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[str] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
