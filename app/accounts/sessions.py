"""Server-side browser sessions: a signed cookie alone no longer proves a live session.

Signing in starts a `user_session` row and puts its token in the cookie; every request checks the
row (app.accounts.views.load_user). Signing out ends it, so a copy of the cookie replayed later is
refused; a changed password or role ends the user's other sessions; deactivation ends them all.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import bindparam, select, update

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


# The check every signed-in request makes: one statement, built once.
_LIVE_SESSION_USER = (
    select(User)
    .join(UserSession, UserSession.user_id == User.id)
    .where(
        User.id == bindparam("user_id"),
        UserSession.id == bindparam("session_key"),
        UserSession.ended_at.is_(None),
    )
)


def user_of_live_session(user_id: int, token: object) -> User | None:
    """The user `user_id` if `token` is one of their live sessions' (not ended), else None."""
    if not isinstance(token, str) or not token:
        return None
    return db.session.scalar(_LIVE_SESSION_USER, {"user_id": user_id, "session_key": _key(token)})


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
