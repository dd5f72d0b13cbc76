"""CAPA lists: the filtered, sorted register and a person's open work."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import joinedload, selectinload

from app.accounts.models import User
from app.capa.models import (
    Capa,
    CapaKind,
    CapaStatus,
    CheckResult,
    EffectivenessCheck,
    RecoveryDimension,
    TrainingAssignment,
)
from app.capa.services import (
    MY_WORK_LIMIT,
    PEOPLE_ROLES,
    is_quality_lead,
    overdue_clause,
    today_utc,
)
from app.core.listing import apply_sort
from app.extensions import db
from app.nonconformities.models import Nonconformity
from app.organisation.models import Category, Process, TQMPrinciple

SORT_COLUMNS = {"due_date": Capa.due_date, "reference": Capa.reference, "status": Capa.status}
DEFAULT_SORT = "due_date"


@dataclass(frozen=True)
class CapaFilters:
    status: CapaStatus | None = None
    owner_id: int | None = None
    kind: CapaKind | None = None
    recovery_dimension: RecoveryDimension | None = None
    principle_id: int | None = None
    process_id: int | None = None
    category_id: int | None = None
    due_from: date | None = None
    due_to: date | None = None
    overdue: bool = False
    today: date | None = None


def capa_list_query(
    filters: CapaFilters, sort: str | None = None
) -> tuple[Select[tuple[Capa]], str]:
    """The filtered, sorted CAPA list with what each row shows loaded in a fixed number of
    queries; returns the statement and the sort key used.

    Process and category match through the linked nonconformities. Overdue: due date before
    today and the CAPA neither effective nor closed."""
    statement = select(Capa).options(
        joinedload(Capa.owner),
        selectinload(Capa.principles),
        selectinload(Capa.nonconformities),
    )
    if filters.status is not None:
        statement = statement.where(Capa.status == filters.status)
    if filters.owner_id is not None:
        statement = statement.where(Capa.owner_id == filters.owner_id)
    if filters.kind is not None:
        statement = statement.where(Capa.kind == filters.kind)
    if filters.recovery_dimension is not None:
        statement = statement.where(Capa.recovery_dimension == filters.recovery_dimension)
    if filters.principle_id is not None:
        statement = statement.where(Capa.principles.any(TQMPrinciple.id == filters.principle_id))
    if filters.process_id is not None:
        statement = statement.where(
            Capa.nonconformities.any(Nonconformity.process_id == filters.process_id)
        )
    if filters.category_id is not None:
        statement = statement.where(
            Capa.nonconformities.any(Nonconformity.category_id == filters.category_id)
        )
    if filters.due_from is not None:
        statement = statement.where(Capa.due_date >= filters.due_from)
    if filters.due_to is not None:
        statement = statement.where(Capa.due_date <= filters.due_to)
    if filters.overdue:
        statement = statement.where(overdue_clause(filters.today or today_utc()))
    return apply_sort(statement, sort, SORT_COLUMNS, DEFAULT_SORT, Capa.id)


def owner_choices() -> list[User]:
    """Everyone who may own a CAPA, deactivated people included (old CAPAs keep their owner)."""
    return list(
        db.session.scalars(select(User).where(User.role.in_(PEOPLE_ROLES)).order_by(User.full_name))
    )


def process_choices() -> list[Process]:
    return list(db.session.scalars(select(Process).order_by(Process.name)))


def category_choices() -> list[Category]:
    return list(db.session.scalars(select(Category).order_by(Category.name)))


# --- my work -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MyWork:
    """A person's open work, each list overdue first, then by due date (at most 100 each)."""

    today: date
    capas: list[Capa]
    checks: list[EffectivenessCheck]
    trainings: list[TrainingAssignment]
    capa_total: int
    check_total: int
    training_total: int


def _count(statement: Select[Any]) -> int:
    return db.session.scalar(select(func.count()).select_from(statement.subquery())) or 0


def my_work(user: User, today: date | None = None) -> MyWork:
    """The CAPAs `user` owns that are not closed; the pending effectiveness checks of those
    CAPAs (every pending check for a quality lead); their training not yet completed."""
    today = today or today_utc()
    capa_overdue = case((overdue_clause(today), 0), else_=1)
    capas = (
        select(Capa)
        .where(Capa.owner_id == user.id, Capa.status != CapaStatus.CLOSED)
        .options(selectinload(Capa.principles))
    )
    check_overdue = case((EffectivenessCheck.due_date < today, 0), else_=1)
    checks = (
        select(EffectivenessCheck)
        .join(EffectivenessCheck.capa)
        .where(EffectivenessCheck.result == CheckResult.PENDING, Capa.status != CapaStatus.CLOSED)
        .options(joinedload(EffectivenessCheck.capa).joinedload(Capa.owner))
    )
    if not is_quality_lead(user):
        checks = checks.where(Capa.owner_id == user.id)
    training_overdue = case((TrainingAssignment.due_date < today, 0), else_=1)
    trainings = (
        select(TrainingAssignment)
        .where(TrainingAssignment.staff_id == user.id, TrainingAssignment.completed_at.is_(None))
        .options(joinedload(TrainingAssignment.capa))
    )
    return MyWork(
        today=today,
        capas=list(
            db.session.scalars(
                capas.order_by(capa_overdue, Capa.due_date, Capa.id).limit(MY_WORK_LIMIT)
            )
        ),
        checks=list(
            db.session.scalars(
                checks.order_by(
                    check_overdue, EffectivenessCheck.due_date, EffectivenessCheck.id
                ).limit(MY_WORK_LIMIT)
            )
        ),
        trainings=list(
            db.session.scalars(
                trainings.order_by(
                    training_overdue, TrainingAssignment.due_date, TrainingAssignment.id
                ).limit(MY_WORK_LIMIT)
            )
        ),
        capa_total=_count(capas),
        check_total=_count(checks),
        training_total=_count(trainings),
    )
