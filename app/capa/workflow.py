"""The CAPA workflow: planned → in_progress → implemented → verifying → effective → closed.

A CAPA cannot become effective without a passed effectiveness check; a failed check makes it
ineffective, and an ineffective CAPA closes only once a follow-up CAPA exists.

A closed CAPA is read-only until it is reopened with a reason (back to in progress), which voids
its signatures. Separation of duties: neither the CAPA's owner nor the person who marked it
implemented may sign its effectiveness or its closure; with LOOP_EFFECTIVENESS_MIN_DAYS set, the
effectiveness cannot be signed sooner than that many days after implementation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import object_session

from app.capa.models import Capa, CapaStatus, CheckResult, RecoveryDimension
from app.core.db import utcnow
from app.core.permissions import Permission
from app.core.workflow import Workflow, signer_other_than, transition

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


def effectiveness_min_days() -> int:
    """LOOP_EFFECTIVENESS_MIN_DAYS: the least number of days between implementation and the
    effectiveness verification (0, the default, sets no minimum)."""
    if not has_app_context():
        return 0
    return int(current_app.config.get("LOOP_EFFECTIVENESS_MIN_DAYS", 0) or 0)


def effectiveness_not_before(capa: Capa) -> str | None:
    """Why the effectiveness of `capa` cannot be judged yet under the minimum time, or None."""
    days = effectiveness_min_days()
    if days <= 0 or capa.implemented_at is None:
        return None
    earliest = capa.implemented_at + timedelta(days=days)
    if utcnow() < earliest:
        return (
            f"The effectiveness can be judged from {earliest:%Y-%m-%d %H:%M} UTC, {days} day(s) "
            f"after implementation ({capa.implemented_at:%Y-%m-%d %H:%M} UTC)."
        )
    return None


def _owner_and_implementer(capa: Capa) -> list[tuple[str, Any]]:
    return [("the CAPA owner", capa.owner), ("its implementer", capa.implemented_by)]


_signer_not_owner_or_implementer = signer_other_than(_owner_and_implementer)


def _stamp_implemented(capa: Capa, user: Any, previous: str) -> None:
    capa.implemented_at = utcnow()
    capa.implemented_by_id = getattr(user, "id", None)


def _stamp_closure(capa: Capa, user: object, previous: str) -> None:
    capa.closed_at = utcnow()


def _clear_closure(capa: Capa, user: object, previous: str) -> None:
    capa.closed_at = None


CAPA_WORKFLOW: Workflow[Capa] = Workflow(
    record_label="CAPA",
    states=tuple(status.value for status in CapaStatus),
    initial=S.PLANNED,
    assignee_of=lambda capa: (capa.owner_id,),
    locked_states=frozenset({S.CLOSED}),
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
            guards=[_needs_passed_check, effectiveness_not_before],
            duties=[_signer_not_owner_or_implementer],
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
            duties=[_signer_not_owner_or_implementer],
            effects=[_stamp_closure],
        ),
        transition(
            "close_ineffective",
            "Close with follow-up",
            S.INEFFECTIVE,
            S.CLOSED,
            Permission.RECORDS_SIGN,
            guards=[_needs_follow_up],
            duties=[_signer_not_owner_or_implementer],
            effects=[_stamp_closure],
        ),
        transition(
            "reopen",
            "Reopen",
            S.CLOSED,
            S.IN_PROGRESS,
            Permission.RECORDS_MANAGE,
            requires_reason=True,
            voids_signatures=True,
            effects=[_clear_closure],
        ),
    ),
)
