"""Notifying people: an in-app notification, and an e-mail when the mail server is configured.

E-mails are queued on the session and sent only after the work that caused them has committed
(`deliver_queued_mail`), so a rolled-back job never e-mails about something that did not happen.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import current_app
from flask_login import current_user
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.core.db import utcnow
from app.core.pagination import Page, paginate
from app.core.permissions import Role
from app.extensions import db
from app.notifications.mail import OutgoingMail, send_all
from app.notifications.models import Notification

_OUTBOX = "loop_mail_outbox"


def notify(
    user: User,
    *,
    kind: str,
    subject: str,
    body: str = "",
    link: str = "",
    dedupe_key: str | None = None,
    email: bool = True,
) -> Notification | None:
    """Notify `user` in the app (and by e-mail when `email` and a mail server is configured).

    With a `dedupe_key`, a user gets that notification once: a second call with the same key
    returns None and sends nothing."""
    if dedupe_key is not None:
        exists = db.session.scalar(
            select(Notification.id).where(
                Notification.user_id == user.id, Notification.dedupe_key == dedupe_key
            )
        )
        if exists is not None:
            return None
    notification = Notification(
        user_id=user.id,
        kind=kind,
        subject=subject[:200],
        body=body,
        link=link,
        dedupe_key=dedupe_key,
    )
    db.session.add(notification)
    db.session.flush()
    if email and user.active and user.email:
        outbox: list[OutgoingMail] = db.session.info.setdefault(_OUTBOX, [])
        outbox.append(OutgoingMail(notification.id, user.email, subject, _mail_body(body, link)))
    return notification


def queue_external_mail(to: str, subject: str, body: str) -> None:
    """Queue an e-mail to someone without an account (a supplier's contact), sent like every
    other e-mail only after the work that caused it has committed."""
    outbox: list[OutgoingMail] = db.session.info.setdefault(_OUTBOX, [])
    outbox.append(OutgoingMail(None, to, subject, body))


def _mail_body(body: str, link: str) -> str:
    if not link:
        return body
    base = str(current_app.config.get("LOOP_BASE_URL") or "").rstrip("/")
    return f"{body}\n\n{base}{link}" if base else f"{body}\n\nIn Loop QMS: {link}"


def quality_leads() -> list[User]:
    """Active quality leads, who hear about recurrence signals and checks awaiting sign-off."""
    return list(
        db.session.scalars(
            select(User)
            .where(User.role == Role.QUALITY_LEAD, User.active.is_(True))
            .order_by(User.id)
        )
    )


def notify_all(users: Iterable[User], **message: Any) -> int:
    """`notify` each user; returns how many notifications were created."""
    return sum(1 for user in users if notify(user, **message) is not None)


def discard_queued_mail(session: Session) -> None:
    session.info.pop(_OUTBOX, None)


def deliver_queued_mail(session: Session) -> int:
    """Send the e-mails queued by committed work and stamp their notifications; returns how many
    were sent. Without a mail server the queue is dropped: the notifications are in-app only."""
    outbox: list[OutgoingMail] = session.info.pop(_OUTBOX, [])
    sent = send_all(current_app.config, outbox)
    stamped = [ident for ident in sent if ident is not None]
    if stamped:
        session.execute(
            update(Notification).where(Notification.id.in_(stamped)).values(emailed_at=utcnow())
        )
        session.commit()
    return len(sent)


# --- the notifications page --------------------------------------------------------------------


# Built once: every signed-in page asks it, and building the statement cost more than running it.
_UNREAD_COUNT = (
    select(func.count())
    .select_from(Notification)
    .where(Notification.user_id == bindparam("user_id"), Notification.read_at.is_(None))
)


def unread_count(user: User | None = None) -> int:
    """How many unread notifications the (signed-in) user has: the badge in the navigation."""
    user = user or (current_user if current_user.is_authenticated else None)
    if user is None:
        return 0
    return db.session.scalar(_UNREAD_COUNT, {"user_id": user.id}) or 0


def notifications_page(user: User, number: int, per_page: int) -> Page[Notification]:
    statement = (
        select(Notification)
        .where(Notification.user_id == user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )
    return paginate(db.session, statement, number, per_page)


def mark_read(user: User, notification_id: int) -> Notification | None:
    """Mark one of the user's own notifications read; None if it is not theirs (or missing)."""
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != user.id:
        return None
    if notification.read_at is None:
        notification.read_at = utcnow()
        db.session.flush()
    return notification


def mark_all_read(user: User) -> int:
    result = db.session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    return int(result.rowcount or 0)
