"""CAPA effectiveness checks: planning them, recording results by hand, and the automatic
no-recurrence criterion the scheduler evaluates.

Same conventions as `app.capa.services`: plain values in, checked, flushed, never committed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, func, or_, select

from app.accounts.models import User
from app.capa.models import Capa, CapaStatus, CheckMethod, CheckResult, EffectivenessCheck
from app.capa.services import (
    CHECK_PLANNING_STATUSES,
    CHECK_RESULT_STATUSES,
    MATCHES_SHOWN,
    TEXT_MAX_LENGTH,
    WINDOW_DAYS_MAX,
    checked_date,
    refuse_closed,
    require_edit,
    require_quality_lead,
    today_utc,
)
from app.capa.workflow import CAPA_WORKFLOW, effectiveness_not_before
from app.complaints.models import Complaint
from app.core.db import utcnow
from app.core.errors import ServiceError
from app.core.validation import checked_text
from app.extensions import db
from app.nonconformities.models import Nonconformity


def default_criterion(window_days: int | None) -> str:
    days = window_days or "N"
    return (
        f"No new complaint or nonconformity with the same process and category for {days} days "
        "after implementation."
    )


def plan_effectiveness_check(
    capa: Capa,
    *,
    criterion: str,
    method: CheckMethod | str,
    window_days: int | None,
    due_date: date | None,
    user: User,
    today: date | None = None,
) -> EffectivenessCheck:
    """Plan how the CAPA's effectiveness will be judged: a manual review, or the automatic
    no-recurrence criterion over `window_days` (> 0) days after implementation."""
    require_edit(user, capa, "plan effectiveness checks")
    refuse_closed(capa, "plan effectiveness checks")
    if capa.status not in CHECK_PLANNING_STATUSES:
        raise ServiceError(
            f"Checks can no longer be planned: {capa.reference} is {capa.status.label.lower()}."
        )
    today = today or today_utc()
    try:
        method = CheckMethod(method)
    except ValueError:
        raise ServiceError("Choose how the check is made.", field="method") from None
    if method == CheckMethod.NO_RECURRENCE:
        if window_days is None or window_days <= 0:
            raise ServiceError(
                "An automatic check needs a window of at least one day.", field="window_days"
            )
        if window_days > WINDOW_DAYS_MAX:
            raise ServiceError(
                f"The window may be at most {WINDOW_DAYS_MAX} days.", field="window_days"
            )
        criterion = (criterion or "").strip() or default_criterion(window_days)
    else:
        window_days = None
    criterion = checked_text(criterion, "A criterion", "criterion", TEXT_MAX_LENGTH)
    due = checked_date(due_date, "The due date", "due_date", today)
    check = EffectivenessCheck(
        capa=capa,
        criterion=criterion,
        method=method,
        window_days=window_days,
        due_date=due,
        result=CheckResult.PENDING,
    )
    db.session.add(check)
    db.session.flush()
    return check


@dataclass(frozen=True)
class CheckOutcome:
    """What recording (or evaluating) a check did, in words for the page."""

    check: EffectivenessCheck
    decided: bool
    follow_up_required: bool
    message: str


def _refuse_unless_recordable(check: EffectivenessCheck) -> None:
    capa = check.capa
    refuse_closed(capa, "record check results")
    if check.result != CheckResult.PENDING:
        raise ServiceError(f"This check already has its result: {check.result.label.lower()}.")
    if capa.status not in CHECK_RESULT_STATUSES:
        raise ServiceError(
            f"Results are recorded once the CAPA is implemented; {capa.reference} is "
            f"{capa.status.label.lower()}."
        )


def _apply_result(
    check: EffectivenessCheck, result: CheckResult, evidence: str, user: User | None
) -> CheckOutcome:
    capa = check.capa
    check.result = result
    check.evidence = evidence
    check.checked_by_id = user.id if user is not None else None
    check.checked_at = utcnow()
    db.session.flush()
    if result == CheckResult.PASSED:
        if capa.status == CapaStatus.VERIFYING:
            message = (
                "The check passed. Verify the effectiveness with your electronic signature "
                "to mark the CAPA effective."
            )
        else:
            message = "The check passed. Start verification, then sign the effectiveness."
        return CheckOutcome(check, True, False, message)
    if capa.status == CapaStatus.VERIFYING and user is not None:
        CAPA_WORKFLOW.fire(capa, "mark_ineffective", user, reason="Effectiveness check failed")
        message = (
            f"The check failed: {capa.reference} is now ineffective. "
            "A follow-up action is required."
        )
    else:
        message = (
            "The check failed. Mark the CAPA ineffective once it is being verified; "
            "a follow-up action is required."
        )
    return CheckOutcome(check, True, True, message)


def record_check_result(
    check: EffectivenessCheck, *, result: CheckResult | str, evidence: str, user: User
) -> CheckOutcome:
    """Record a check's result (quality leads only; evidence required). A failed check on a CAPA
    under verification makes it ineffective at once, and the outcome asks for a follow-up."""
    require_quality_lead(user, "record effectiveness check results")
    _refuse_unless_recordable(check)
    try:
        result = CheckResult(result)
    except ValueError:
        raise ServiceError("Choose passed or failed.", field="result") from None
    if result == CheckResult.PENDING:
        raise ServiceError("Choose passed or failed.", field="result")
    evidence = checked_text(evidence, "Evidence", "evidence", TEXT_MAX_LENGTH)
    too_soon = effectiveness_not_before(check.capa)
    if too_soon:
        raise ServiceError(too_soon, field="result")
    return _apply_result(check, result, evidence, user)


@dataclass(frozen=True)
class RecurrenceEvaluation:
    """The automatic no-recurrence criterion, evaluated without changing anything."""

    passed: bool
    count: int
    window_start: datetime
    window_end: datetime
    # False while the window is still running: no recurrence *so far* cannot pass the check yet.
    complete: bool
    references: list[str] = field(default_factory=list)

    @property
    def decided(self) -> bool:
        return self.complete or not self.passed


def _fingerprints(capa: Capa) -> list[tuple[int, int]]:
    return sorted(
        {
            (nc.process_id, nc.category_id)
            for nc in capa.nonconformities
            if nc.process_id is not None and nc.category_id is not None
        }
    )


def evaluate_no_recurrence(
    check: EffectivenessCheck, today: date | None = None
) -> RecurrenceEvaluation:
    """Count complaints and nonconformities with the same process AND category as the CAPA's
    linked nonconformities, received or detected after the CAPA was implemented and within the
    check's window (up to `today`, end of day UTC; default now). Changes nothing.

    Passed means none were found; `complete` says whether the whole window has elapsed."""
    capa = check.capa
    if check.method != CheckMethod.NO_RECURRENCE or not check.window_days:
        raise ServiceError("Only automatic no-recurrence checks are evaluated by the system.")
    if capa.implemented_at is None:
        raise ServiceError(f"{capa.reference} is not implemented yet: there is nothing to measure.")
    pairs = _fingerprints(capa)
    if not pairs:
        raise ServiceError(
            "The linked nonconformities name no process and category to watch for recurrence."
        )
    start = capa.implemented_at
    window_end = start + timedelta(days=check.window_days)
    as_of = (
        utcnow()
        if today is None
        else datetime.combine(today + timedelta(days=1), time.min, tzinfo=UTC)
    )
    end = min(window_end, as_of)
    own_ids = [nc.id for nc in capa.nonconformities]
    complaint_filter = and_(
        or_(*(and_(Complaint.process_id == p, Complaint.category_id == c) for p, c in pairs)),
        Complaint.received_at > start,
        Complaint.received_at <= end,
    )
    nc_filter = and_(
        or_(
            *(and_(Nonconformity.process_id == p, Nonconformity.category_id == c) for p, c in pairs)
        ),
        Nonconformity.detected_at > start,
        Nonconformity.detected_at <= end,
        Nonconformity.id.not_in(own_ids),
    )
    count = (db.session.scalar(select(func.count()).where(complaint_filter)) or 0) + (
        db.session.scalar(select(func.count()).where(nc_filter)) or 0
    )
    matches = [
        *db.session.execute(
            select(Complaint.received_at, Complaint.reference)
            .where(complaint_filter)
            .order_by(Complaint.received_at, Complaint.id)
            .limit(MATCHES_SHOWN)
        ).all(),
        *db.session.execute(
            select(Nonconformity.detected_at, Nonconformity.reference)
            .where(nc_filter)
            .order_by(Nonconformity.detected_at, Nonconformity.id)
            .limit(MATCHES_SHOWN)
        ).all(),
    ]
    matches.sort()
    return RecurrenceEvaluation(
        passed=count == 0,
        count=count,
        window_start=start,
        window_end=window_end,
        complete=as_of >= window_end,
        references=[reference for _, reference in matches[:MATCHES_SHOWN]],
    )


def _window_text(evaluation: RecurrenceEvaluation) -> str:
    return f"{evaluation.window_start:%Y-%m-%d %H:%M} to {evaluation.window_end:%Y-%m-%d %H:%M} UTC"


def run_automatic_check(
    check: EffectivenessCheck, user: User | None, today: date | None = None
) -> CheckOutcome:
    """Evaluate an automatic check and record its result when it is decided: failed as soon as a
    recurrence appears, passed once the whole window has elapsed without one. While the window
    runs with no recurrence the check stays pending and nothing changes.

    `user` is the quality lead who pressed "Evaluate now", or None for the scheduler; a failed
    check then leaves marking the CAPA ineffective to a person."""
    if user is not None:
        require_quality_lead(user, "evaluate effectiveness checks")
    _refuse_unless_recordable(check)
    evaluation = evaluate_no_recurrence(check, today)
    if not evaluation.decided:
        return CheckOutcome(
            check,
            False,
            False,
            f"No new complaint or nonconformity so far; the window runs until "
            f"{evaluation.window_end:%Y-%m-%d %H:%M} UTC, so the check stays pending.",
        )
    if evaluation.passed:
        evidence = (
            "Automatic check: no new complaint or nonconformity with the same process and "
            f"category from {_window_text(evaluation)}: 0 new records."
        )
        return _apply_result(check, CheckResult.PASSED, evidence, user)
    shown = ", ".join(evaluation.references)
    more = evaluation.count - len(evaluation.references)
    evidence = (
        f"Automatic check: {evaluation.count} new record(s) with the same process and category "
        f"from {_window_text(evaluation)}: {shown}" + (f" and {more} more." if more else ".")
    )
    return _apply_result(check, CheckResult.FAILED, evidence, user)
