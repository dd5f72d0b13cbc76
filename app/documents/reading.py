"""Read and understood (employee recovery), and the periodic-review reminders.

When a revision becomes effective, everyone in the roles the document names and the owners of
the processes it names is asked to confirm they read and understood it, by a due date; the
document's page shows who has not yet. The review reminder tells a document's owner once per
review due date (the notification's dedupe key carries the document and the date).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.core.db import utcnow
from app.core.errors import ServiceError
from app.documents.models import (
    ControlledDocument,
    DocumentRevision,
    ReadAcknowledgement,
    RevisionStatus,
)
from app.extensions import db
from app.notifications.services import notify


def readers_of(document: ControlledDocument) -> list[User]:
    """The active people who must read the document: members of its roles, owners of its
    processes, ordered by name."""
    people: dict[int, User] = {}
    if document.roles:
        for user in db.session.scalars(
            select(User).where(User.role.in_(document.roles), User.active.is_(True))
        ):
            people[user.id] = user
    for process in document.processes:
        if process.owner is not None and process.owner.active:
            people[process.owner.id] = process.owner
    return sorted(people.values(), key=lambda user: (user.full_name, user.id))


def assign_readers(revision: DocumentRevision, due: date) -> list[ReadAcknowledgement]:
    """Ask each reader of the document to read `revision` by `due`, in the app and by e-mail."""
    document = revision.document
    assigned = []
    for user in readers_of(document):
        acknowledgement = ReadAcknowledgement(
            revision_id=revision.id, user_id=user.id, assigned_at=utcnow(), due_date=due
        )
        db.session.add(acknowledgement)
        assigned.append(acknowledgement)
        notify(
            user,
            kind="document-read",
            subject=f"Read and understood: {document.number} rev {revision.number}",
            body=(
                f"{document.title} (revision {revision.number}) is now in force. Read it and "
                f"confirm you understood it by {due:%Y-%m-%d}."
            ),
            link=f"/documents/{document.number}",
            dedupe_key=f"document-read:{revision.id}",
        )
    db.session.flush()
    return assigned


def acknowledgements_of(revision: DocumentRevision) -> list[ReadAcknowledgement]:
    return list(
        db.session.scalars(
            select(ReadAcknowledgement)
            .where(ReadAcknowledgement.revision_id == revision.id)
            .options(selectinload(ReadAcknowledgement.user))
            .join(User, User.id == ReadAcknowledgement.user_id)
            .order_by(User.full_name, User.id)
        )
    )


def own_acknowledgement(revision: DocumentRevision, user: User) -> ReadAcknowledgement | None:
    return db.session.scalar(
        select(ReadAcknowledgement).where(
            ReadAcknowledgement.revision_id == revision.id,
            ReadAcknowledgement.user_id == user.id,
        )
    )


def acknowledge(revision: DocumentRevision, user: User) -> ReadAcknowledgement:
    """`user` confirms they read and understood the effective `revision` they were asked to."""
    if revision.status != RevisionStatus.EFFECTIVE:
        raise ServiceError(
            f"Revision {revision.number} is {revision.status.label.lower()}, not in force: "
            "there is nothing to acknowledge."
        )
    acknowledgement = own_acknowledgement(revision, user)
    if acknowledgement is None:
        raise ServiceError("You were not asked to read this revision.")
    if acknowledgement.acknowledged_at is not None:
        raise ServiceError("You already confirmed you read and understood this revision.")
    acknowledgement.acknowledged_at = utcnow()
    db.session.flush()
    return acknowledgement


def open_acknowledgements_of(user: User) -> list[ReadAcknowledgement]:
    """The effective revisions `user` still has to read, soonest due first (for My work)."""
    return list(
        db.session.scalars(
            select(ReadAcknowledgement)
            .join(DocumentRevision, DocumentRevision.id == ReadAcknowledgement.revision_id)
            .where(
                ReadAcknowledgement.user_id == user.id,
                ReadAcknowledgement.acknowledged_at.is_(None),
                DocumentRevision.status == RevisionStatus.EFFECTIVE,
            )
            .order_by(ReadAcknowledgement.due_date, ReadAcknowledgement.id)
        )
    )


def send_review_reminders(as_of: datetime | None = None) -> dict[str, int]:
    """Tell the owner of each document whose review is due (on or before the day of `as_of`)
    and that is in force, once per due date."""
    today = (as_of or utcnow()).date()
    due = list(
        db.session.scalars(
            select(ControlledDocument)
            .where(
                ControlledDocument.review_due.is_not(None),
                ControlledDocument.review_due <= today,
                ControlledDocument.revisions.any(
                    DocumentRevision.status == RevisionStatus.EFFECTIVE
                ),
            )
            .order_by(ControlledDocument.id)
        )
    )
    reminded = 0
    for document in due:
        owner = document.owner
        if owner is None or not owner.active or document.review_due is None:
            continue
        created = notify(
            owner,
            kind="document-review",
            subject=f"Review due: {document.number} {document.title}",
            body=(
                f"The periodic review of {document.number} was due on "
                f"{document.review_due:%Y-%m-%d}. Review it and either confirm it or start a "
                "new revision."
            ),
            link=f"/documents/{document.number}",
            dedupe_key=f"document-review:{document.id}:{document.review_due.isoformat()}",
        )
        reminded += created is not None
    return {"due": len(due), "reminded": reminded, "already_reminded": len(due) - reminded}
