"""Reminders for work past its due date: CAPAs (actions), effectiveness checks, trainings.

Each overdue item reminds its owner (the CAPA's owner; the trainee for a training) in the app and
by e-mail, at most once a UTC day per item: the notification's dedupe key carries the item and
the day, and the (user, key) pair is unique in the database.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.capa.models import (
    Capa,
    CapaStatus,
    CheckMethod,
    CheckResult,
    EffectivenessCheck,
    TrainingAssignment,
)
from app.capa.services import overdue_clause
from app.core.db import utcnow
from app.extensions import db
from app.notifications.services import notify

BATCH = 500


def _remind(user, *, kind: str, ident: int, day: date, subject: str, body: str, link: str) -> bool:
    if user is None or not user.active:
        return False
    created = notify(
        user,
        kind=kind,
        subject=subject,
        body=body,
        link=link,
        dedupe_key=f"reminder:{kind}:{ident}:{day.isoformat()}",
    )
    return created is not None


def _in_batches(statement):  # type: ignore[no-untyped-def]
    """Rows of `statement` (ordered by id) a batch at a time, so memory stays bounded."""
    last_id = 0
    model = statement.column_descriptions[0]["entity"]
    for _ in range(1_000_000):  # bounded: each pass moves past at least one row or stops
        rows = list(db.session.scalars(statement.where(model.id > last_id).limit(BATCH)).unique())
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id


def send_reminders(as_of: datetime | None = None) -> dict[str, int]:
    """Remind owners of overdue CAPAs, effectiveness checks and trainings (once a day each).

    Overdue means the due date is before the day of `as_of` (UTC). Checks with the automatic
    criterion are left to the automatic-check job; manual-review checks are reminded."""
    day = (as_of or utcnow()).date()
    counts = {"capas": 0, "checks": 0, "trainings": 0, "already_reminded_today": 0}

    capas = (
        select(Capa)
        .options(joinedload(Capa.owner))
        .where(
            overdue_clause(day),
            Capa.owner_id.is_not(None),
        )
        .order_by(Capa.id)
    )
    for capa in _in_batches(capas):
        sent = _remind(
            capa.owner,
            kind="capa_overdue",
            ident=capa.id,
            day=day,
            subject=f"Overdue: {capa.reference} was due {capa.due_date:%Y-%m-%d}",
            body=f"{capa.reference} “{capa.title}” is {capa.status.label.lower()} and past its "
            f"due date ({capa.due_date:%Y-%m-%d}).",
            link=f"/capa/{capa.reference}",
        )
        counts["capas" if sent else "already_reminded_today"] += 1

    checks = (
        select(EffectivenessCheck)
        .join(Capa, Capa.id == EffectivenessCheck.capa_id)
        .options(joinedload(EffectivenessCheck.capa).joinedload(Capa.owner))
        .where(
            EffectivenessCheck.result == CheckResult.PENDING,
            EffectivenessCheck.method == CheckMethod.MANUAL_REVIEW,
            EffectivenessCheck.due_date < day,
            Capa.status != CapaStatus.CLOSED,
        )
        .order_by(EffectivenessCheck.id)
    )
    for check in _in_batches(checks):
        capa = check.capa
        sent = _remind(
            capa.owner,
            kind="check_overdue",
            ident=check.id,
            day=day,
            subject=f"Effectiveness check overdue on {capa.reference}",
            body=f"The check “{check.criterion}” was due {check.due_date:%Y-%m-%d} and has no "
            "result yet.",
            link=f"/capa/{capa.reference}",
        )
        counts["checks" if sent else "already_reminded_today"] += 1

    trainings = (
        select(TrainingAssignment)
        .join(Capa, Capa.id == TrainingAssignment.capa_id)
        .options(joinedload(TrainingAssignment.staff), joinedload(TrainingAssignment.capa))
        .where(
            TrainingAssignment.completed_at.is_(None),
            TrainingAssignment.due_date < day,
            Capa.status != CapaStatus.CLOSED,
        )
        .order_by(TrainingAssignment.id)
    )
    for training in _in_batches(trainings):
        sent = _remind(
            training.staff,
            kind="training_overdue",
            ident=training.id,
            day=day,
            subject=f"Training overdue: {training.topic}",
            body=f"Your training “{training.topic}” for {training.capa.reference} was due "
            f"{training.due_date:%Y-%m-%d}.",
            link=f"/capa/{training.capa.reference}",
        )
        counts["trainings" if sent else "already_reminded_today"] += 1
    return counts
