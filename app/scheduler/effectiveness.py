"""Automatic effectiveness checks: evaluate the due ones, record the result, tell the people.

A check with the automatic criterion (no recurrence of the process and category) whose due date
has passed is evaluated with `app.capa.services.run_automatic_check`:
- passed: the check is recorded as passed and the CAPA is put under verification (if it was only
  implemented), so it awaits the quality lead's effectiveness signature; the leads are told;
- failed: the check is recorded as failed and the CAPA becomes ineffective (through the CAPA
  workflow and its guards); its owner is told a follow-up is required;
- undecided (the window is still running with no recurrence): nothing changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.capa.effectiveness import run_automatic_check
from app.capa.models import Capa, CapaStatus, CheckMethod, CheckResult, EffectivenessCheck
from app.capa.services import CHECK_RESULT_STATUSES
from app.capa.workflow import CAPA_WORKFLOW
from app.core.db import all_or_nothing, utcnow
from app.core.errors import ServiceError
from app.core.permissions import Role
from app.extensions import db
from app.notifications.services import notify, notify_all, quality_leads


@dataclass(frozen=True)
class SystemActor:
    """The scheduler in the CAPA workflow: it fires the transitions a quality lead could, with
    the same guards. The audit trail names it `system:<job>` (it has no user id)."""

    id: None = None
    role: Role = Role.QUALITY_LEAD


SYSTEM = SystemActor()


def _put_under_verification(capa: Capa) -> None:
    if capa.status == CapaStatus.IMPLEMENTED:
        CAPA_WORKFLOW.fire(capa, "verify", SYSTEM, reason="Automatic effectiveness check decided")


def run_due_automatic_checks(as_of: datetime | None = None) -> dict[str, int]:
    """Evaluate every pending automatic check due by the day of `as_of` (UTC)."""
    today: date = (as_of or utcnow()).date()
    checks = list(
        db.session.scalars(
            select(EffectivenessCheck)
            .join(Capa, Capa.id == EffectivenessCheck.capa_id)
            .options(
                selectinload(EffectivenessCheck.capa).selectinload(Capa.nonconformities),
                selectinload(EffectivenessCheck.capa).selectinload(Capa.checks),
            )
            .where(
                EffectivenessCheck.method == CheckMethod.NO_RECURRENCE,
                EffectivenessCheck.result == CheckResult.PENDING,
                EffectivenessCheck.due_date <= today,
                Capa.status.in_(CHECK_RESULT_STATUSES),
            )
            .order_by(EffectivenessCheck.id)
        )
    )
    counts = {"evaluated": 0, "passed": 0, "failed": 0, "undecided": 0, "not_evaluable": 0}
    leads = quality_leads()
    for check in checks:
        capa = check.capa
        try:
            with all_or_nothing(db.session):
                outcome = run_automatic_check(check, None, today)
                if not outcome.decided:
                    counts["undecided"] += 1
                    continue
                _put_under_verification(capa)
                if check.result == CheckResult.FAILED:
                    CAPA_WORKFLOW.fire(
                        capa,
                        "mark_ineffective",
                        SYSTEM,
                        reason="Automatic effectiveness check failed",
                    )
        except ServiceError:
            # e.g. the linked nonconformities name no process and category: a person decides.
            counts["not_evaluable"] += 1
            continue
        counts["evaluated"] += 1
        link = f"/capa/{capa.reference}"
        if check.result == CheckResult.PASSED:
            counts["passed"] += 1
            notify_all(
                leads,
                kind="check_passed",
                subject=f"{capa.reference}: effectiveness check passed, awaiting sign-off",
                body=f"{check.evidence} Verify the effectiveness with your electronic signature.",
                link=link,
            )
        else:
            counts["failed"] += 1
            if capa.owner is not None:
                notify(
                    capa.owner,
                    kind="check_failed",
                    subject=f"{capa.reference} is ineffective: a follow-up action is required",
                    body=check.evidence,
                    link=link,
                )
    return counts
