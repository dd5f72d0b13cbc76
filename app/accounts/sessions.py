"""Server-side browser sessions: a signed cookie alone no longer proves a live session.

Signing in starts a `user_session` row and puts its token in the cookie; every request checks the
row (app.accounts.views.load_user). Signing out ends it, so a copy of the cookie replayed later is
refused; a changed password or role ends the user's other sessions; deactivation ends them all.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select, update

from app.accounts.models import User, UserSession
from app.core.db import utcnow
from app.extensions import db


def _key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(user: User) -> str:
    """A new live session for `user`; returns the token the cookie keeps (the table keeps only its
    hash)."""
    token = secrets.token_urlsafe(32)
    db.session.add(UserSession(id=_key(token), user_id=user.id, created_at=utcnow()))
    db.session.flush()
    return token


def session_is_live(user_id: int, token: object) -> bool:
    if not isinstance(token, str) or not token:
        return False
    found = db.session.get(UserSession, _key(token))
    return found is not None and found.user_id == user_id and found.ended_at is None


def end_session(token: object, reason: str) -> None:
    """End the session of `token` (signing out); unknown or ended tokens are ignored."""
    if not isinstance(token, str) or not token:
        return
    db.session.execute(
        update(UserSession)
        .where(UserSession.id == _key(token), UserSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason)
    )


def end_user_sessions(user: User, reason: str, keep: object = None) -> int:
    """End every live session of `user` except the one of token `keep`; returns how many."""
    statement = (
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason)
    )
    if isinstance(keep, str) and keep:
        statement = statement.where(UserSession.id != _key(keep))
    return db.session.execute(statement).rowcount or 0


def live_sessions(user: User) -> list[UserSession]:
    return list(
        db.session.scalars(
            select(UserSession)
            .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
            .order_by(UserSession.created_at)
        )
    )
