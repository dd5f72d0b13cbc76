from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.audit import Audited
from app.core.db import Base, TimestampMixin, UTCDateTime, VersionedMixin, enum_type, utcnow
from app.core.permissions import Role


class User(Audited, TimestampMixin, VersionedMixin, UserMixin, Base):
    __tablename__ = "user_account"
    __audit_redact__ = frozenset({"password_hash"})
    __audit_label__ = "full_name"
    __audit_type_label__ = "User"
    __audit_field_labels__ = {
        "full_name": "Name",
        "email": "E-mail",
        "session_epoch": "Session epoch",
    }
    __audit_bookkeeping__ = frozenset({"session_epoch"})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(enum_type(Role, "role"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    # Bumped when the password changes or the account is deactivated: older sessions stop working.
    session_epoch: Mapped[int] = mapped_column(Integer, default=1)

    @property
    def is_active(self) -> bool:  # Flask-Login asks this
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_epoch}"

    @property
    def role_label(self) -> str:
        return Role(self.role).label


class LoginAttempt(Base):
    """Every sign-in attempt, successful or not: the lockout and rate limit count these rows."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_email_at", "email", "attempted_at"),
        Index("ix_login_attempt_remote_addr_at", "remote_addr", "attempted_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    remote_addr: Mapped[str] = mapped_column(String(64))
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    succeeded: Mapped[bool] = mapped_column(Boolean)


class UserSession(Base):
    """One signed-in browser session, known to the server: the cookie carries its token, the
    table only the token's SHA-256. Signing out, a changed password or role, or deactivation end
    it here, so a copy of the cookie replayed later is refused."""

    __tablename__ = "user_session"
    __table_args__ = (Index("ix_user_session_user_id_ended_at", "user_id", "ended_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    end_reason: Mapped[str | None] = mapped_column(String(40))
