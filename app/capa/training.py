"""CAPA training: the employee recovery. Assigning training to staff and recording that it
was given; an employee-recovery CAPA is implemented only once all its training is done.

Same conventions as `app.capa.services`: plain values in, checked, flushed, never committed.
"""

from __future__ import annotations

from datetime import date

from app.accounts.models import User
from app.capa.models import Capa, TrainingAssignment
from app.capa.services import (
    TOPIC_MAX_LENGTH,
    NotAllowed,
    checked_date,
    checked_person,
    is_quality_lead,
    refuse_closed,
    require_edit,
    today_utc,
)
from app.core.db import utcnow
from app.core.errors import ServiceError
from app.core.permissions import Permission, role_can
from app.core.validation import checked_text
from app.extensions import db


def assign_training(
    capa: Capa,
    *,
    staff_id: int | None,
    topic: str,
    due_date: date | None,
    user: User,
    today: date | None = None,
) -> TrainingAssignment:
    """Assign training to a staff member. Allowed on any open CAPA; an employee-recovery CAPA
    cannot be implemented until all its trainings are completed."""
    require_edit(user, capa, "assign training")
    refuse_closed(capa, "assign training")
    today = today or today_utc()
    staff = checked_person(staff_id, None, "staff member", "staff_id")
    topic = checked_text(topic, "A topic", "topic", TOPIC_MAX_LENGTH)
    due = checked_date(due_date, "The due date", "due_date", today)
    training = TrainingAssignment(capa=capa, staff_id=staff.id, topic=topic, due_date=due)
    db.session.add(training)
    db.session.flush()
    return training


def complete_training(training: TrainingAssignment, user: User) -> TrainingAssignment:
    """Record that the training was given. The staff member themself or a quality lead."""
    own = training.staff_id == user.id and role_can(user.role, Permission.RECORDS_CREATE)
    if not own and not is_quality_lead(user):
        raise NotAllowed("Only the staff member or a quality lead may complete this training.")
    refuse_closed(training.capa, "record training")
    if training.completed_at is not None:
        raise ServiceError(
            f"This training was already completed on {training.completed_at:%Y-%m-%d}."
        )
    training.completed_at = utcnow()
    db.session.flush()
    return training
