"""The CAPA workflow: planned → in_progress → implemented → verifying → effective → closed.

A CAPA cannot become effective without a passed effectiveness check; a failed check makes it
ineffective, and an ineffective CAPA closes only once a follow-up CAPA exists."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import object_session

from app.capa.models import Capa, CapaStatus, CheckResult, RecoveryDimension
from app.core.db import utcnow
from app.core.permissions import Permission
from app.core.workflow import Workflow, transition

S = CapaStatus


def _needs_principles(capa: Capa) -> str | None:
    if not capa.principles:
        return "Map the CAPA to at least one TQM principle first."
    return None


def _needs_completed_training(capa: Capa) -> str | None:
    if capa.recovery_dimension != RecoveryDimension.EMPLOYEE:
        return None
    if not capa.trainings:
        return "An employee-recovery CAPA needs at least one training assignment."
    open_count = sum(1 for training in capa.trainings if training.completed_at is None)
    if open_count:
        return f"{open_count} training assignment(s) are not completed yet."
    return None


def _needs_a_check(capa: Capa) -> str | None:
    if not capa.checks:
        return "Plan an effectiveness check first."
    return None


def _needs_passed_check(capa: Capa) -> str | None:
    if not any(check.result == CheckResult.PASSED for check in capa.checks):
        return "A CAPA cannot be effective without a passed effectiveness check."
    return None


def _needs_failed_check(capa: Capa) -> str | None:
    if not any(check.result == CheckResult.FAILED for check in capa.checks):
        return "Only a failed effectiveness check makes a CAPA ineffective."
    return None


def _needs_follow_up(capa: Capa) -> str | None:
    session = object_session(capa)
    follow_up = session.scalar(select(Capa.id).where(Capa.follow_up_of_id == capa.id).limit(1))
    if follow_up is None:
        return "An ineffective CAPA needs a follow-up action before it can close."
    return None


def _stamp_implemented(capa: Capa, user: object, previous: str) -> None:
    capa.implemented_at = utcnow()


def _stamp_closure(capa: Capa, user: object, previous: str) -> None:
    capa.closed_at = utcnow()


CAPA_WORKFLOW: Workflow[Capa] = Workflow(
    record_label="CAPA",
    states=tuple(status.value for status in CapaStatus),
    initial=S.PLANNED,
    assignee_of=lambda capa: (capa.owner_id,),
    transitions=(
        transition(
            "start",
            "Start work",
            S.PLANNED,
            S.IN_PROGRESS,
            Permission.RECORDS_MANAGE,
            assignee_may=True,
            guards=[_needs_principles],
        ),
        transition(
            "implement",
            "Mark implemented",
            S.IN_PROGRESS,
            S.IMPLEMENTED,
            Permission.RECORDS_MANAGE,
            assignee_may=True,
            guards=[_needs_completed_training],
            effects=[_stamp_implemented],
        ),
        transition(
            "verify",
            "Start verification",
            S.IMPLEMENTED,
            S.VERIFYING,
            Permission.RECORDS_MANAGE,
            guards=[_needs_a_check],
        ),
        transition(
            "mark_effective",
            "Mark effective",
            S.VERIFYING,
            S.EFFECTIVE,
            Permission.RECORDS_SIGN,
            guards=[_needs_passed_check],
        ),
        transition(
            "mark_ineffective",
            "Mark ineffective",
            S.VERIFYING,
            S.INEFFECTIVE,
            Permission.RECORDS_MANAGE,
            guards=[_needs_failed_check],
        ),
        transition(
            "close",
            "Close",
            S.EFFECTIVE,
            S.CLOSED,
            Permission.RECORDS_SIGN,
            effects=[_stamp_closure],
        ),
        transition(
            "close_ineffective",
            "Close with follow-up",
            S.INEFFECTIVE,
            S.CLOSED,
            Permission.RECORDS_SIGN,
            guards=[_needs_follow_up],
            effects=[_stamp_closure],
        ),
    ),
)
