"""Management reviews: scheduling the meeting, holding it (which freezes its inputs), recording
decisions, actions (and turning an action into a CAPA) and notes, and the chair's signed approval
of the minutes.

Services take plain values, check the rules, change records and flush; they never commit. A
refusal is a `ServiceError` naming the field at fault (`NotPermitted` when the user may not make
the change at all); the caller rolls the session back after one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import select

from app.accounts.models import User
from app.accounts.services import sign_record
from app.capa import services as capa_services
from app.capa.models import Capa
from app.core.audit import canonical_json
from app.core.db import all_or_nothing, ensure_current_version, flush_or_refuse_stale, utcnow
from app.core.errors import NotPermitted, ServiceError
from app.core.permissions import Permission, Role, role_can
from app.core.references import next_reference
from app.core.signatures import Signature
from app.core.validation import checked_choice, checked_text
from app.core.workflow import TransitionRefused
from app.extensions import db
from app.reviews.inputs import FREE_TEXT_SECTIONS, SECTIONS, collect_inputs
from app.reviews.models import ManagementReview, OutputKind, ReviewOutput, ReviewStatus
from app.reviews.workflow import REVIEW_WORKFLOW

TITLE_MAX_LENGTH = 200
TEXT_MAX_LENGTH = 10_000
APPROVAL_PURPOSE = "management_review_minutes"
REFERENCE_PREFIX = "MR"
SECTION_KEYS = frozenset(key for key, _ in SECTIONS)


def may_plan(user: Any) -> bool:
    """Quality leads schedule reviews."""
    return user is not None and role_can(user.role, Permission.RECORDS_MANAGE)


def may_edit(user: Any, review: ManagementReview) -> bool:
    """Quality leads and the review's chair (never an auditor-role user) record the meeting."""
    if user is None or not getattr(user, "is_authenticated", True) or user.role == Role.AUDITOR:
        return False
    return may_plan(user) or user.id == review.chair_id


def _require_edit(user: Any, review: ManagementReview) -> None:
    if user is not None and not may_edit(user, review):
        raise NotPermitted(
            f"Only a quality lead or the chair may change the management review {review.reference}."
        )


def is_read_only(review: ManagementReview) -> bool:
    return REVIEW_WORKFLOW.is_locked(review)


def get_by_reference(reference: str) -> ManagementReview | None:
    return db.session.scalar(
        select(ManagementReview).where(ManagementReview.reference == reference.strip().upper())
    )


def list_reviews() -> list[ManagementReview]:
    return list(
        db.session.scalars(
            select(ManagementReview).order_by(
                ManagementReview.meeting_date.desc(), ManagementReview.id.desc()
            )
        )
    )


def selectable_people(current: Iterable[int] = ()) -> list[User]:
    wanted = list(current)
    condition = User.active.is_(True) & (User.role != Role.ADMIN)
    if wanted:
        condition = condition | User.id.in_(wanted)
    return list(db.session.scalars(select(User).where(condition).order_by(User.full_name)))


# --- scheduling ------------------------------------------------------------------------------


def _checked_dates(meeting: date | None, first: date | None, last: date | None) -> None:
    if meeting is None:
        raise ServiceError("The meeting date is required.", field="meeting_date")
    if first is None:
        raise ServiceError(
            "The start of the period under review is required.", field="period_start"
        )
    if last is None:
        raise ServiceError("The end of the period under review is required.", field="period_end")
    if last < first:
        raise ServiceError(
            f"The period cannot end ({last:%Y-%m-%d}) before it starts ({first:%Y-%m-%d}).",
            field="period_end",
        )
    if (last - first).days > 730:
        raise ServiceError(
            "The period under review may be at most two years.", field="period_start"
        )
    if first > meeting:
        raise ServiceError(
            "The period under review cannot start after the meeting.", field="period_start"
        )


def _people(chair_id: Any, attendee_ids: Iterable[Any]) -> tuple[User, list[User]]:
    if chair_id in (None, ""):
        raise ServiceError("Choose the chair.", field="chair_id")
    chair = db.session.get(User, int(chair_id))
    if chair is None or not chair.active:
        raise ServiceError("The chair must be an active user.", field="chair_id")
    if chair.role in (Role.ADMIN, Role.AUDITOR):
        raise ServiceError(
            f"{chair.full_name} is {chair.role_label.lower()} and cannot chair a review.",
            field="chair_id",
        )
    wanted = sorted({int(ident) for ident in attendee_ids if str(ident).isdigit()} | {chair.id})
    attendees = list(db.session.scalars(select(User).where(User.id.in_(wanted))))
    if len(attendees) != len(wanted):
        raise ServiceError("A chosen attendee does not exist.", field="attendee_ids")
    return chair, attendees


def schedule_review(
    *,
    title: str,
    meeting_date: date | None,
    period_start: date | None,
    period_end: date | None,
    chair_id: Any,
    attendee_ids: Iterable[Any] = (),
    guests: str = "",
    agenda: str = "",
    user: User | None = None,
) -> ManagementReview:
    """Schedule a management review (draft, reference MR-<year>-<6 digits>). The chair attends;
    guests without an account are named one a line."""
    if user is not None and not may_plan(user):
        raise NotPermitted("Only a quality lead may schedule management reviews.")
    title = checked_text(title, "A title", "title", TITLE_MAX_LENGTH, required=True)
    _checked_dates(meeting_date, period_start, period_end)
    chair, attendees = _people(chair_id, attendee_ids)
    review = ManagementReview(
        reference=next_reference(db.session, REFERENCE_PREFIX, meeting_date.year),  # type: ignore[union-attr]
        title=title,
        status=ReviewStatus.DRAFT,
        meeting_date=meeting_date,
        period_start=period_start,
        period_end=period_end,
        chair=chair,
        agenda=checked_text(agenda, "The agenda", "agenda", TEXT_MAX_LENGTH, False),
        guests=checked_text(guests, "The guests", "guests", TEXT_MAX_LENGTH, False),
        notes_json="{}",
        external_issues="",
        resources="",
        risk_actions="",
        improvement_opportunities="",
    )
    review.attendees = attendees
    db.session.add(review)
    db.session.flush()
    return review


# --- holding the meeting and its frozen inputs -----------------------------------------------


def preview_inputs(review: ManagementReview, today: date | None = None) -> dict[str, Any]:
    """What the inputs would be if the meeting were held now (drafts show this; nothing is
    stored). A held review shows its frozen `review.inputs` instead."""
    inputs, _ = collect_inputs(review, today or utcnow().date())
    return inputs


def hold_review(
    review: ManagementReview, user: User, *, expected_version: object = None
) -> ManagementReview:
    """Hold the meeting: collect the inputs for the period and freeze them (with the pack's
    charts and the inputs' SHA-256), so the minutes never change afterwards."""
    _require_edit(user, review)
    if expected_version is not None:
        ensure_current_version(review, expected_version, f"The review {review.reference}")
    refused = REVIEW_WORKFLOW.refusal(REVIEW_WORKFLOW.get("hold"), review, user)
    if refused:
        raise TransitionRefused(refused)
    inputs, charts = collect_inputs(review, utcnow().date())
    frozen = canonical_json(inputs)
    review.inputs_json = frozen
    review.charts_json = json.dumps(charts, sort_keys=True)
    review.inputs_sha256 = hashlib.sha256(frozen.encode()).hexdigest()
    review.held_at = utcnow()
    return REVIEW_WORKFLOW.fire(review, "hold", user)


def _refuse_frozen(review: ManagementReview, what: str) -> None:
    REVIEW_WORKFLOW.refuse_if_locked(review, what)


def update_review(
    review: ManagementReview,
    *,
    title: str,
    agenda: str,
    guests: str,
    attendee_ids: Iterable[Any],
    external_issues: str,
    resources: str,
    risk_actions: str,
    improvement_opportunities: str,
    expected_version: object,
    user: User | None = None,
) -> ManagementReview:
    """Change the meeting record: title, agenda, attendees, guests and the free-text inputs
    (until the minutes are approved). The dates, chair and collected inputs do not change here:
    once held, the inputs are frozen."""
    _require_edit(user, review)
    label = f"The review {review.reference}"
    ensure_current_version(review, expected_version, label)
    _refuse_frozen(review, "change it")
    _, attendees = _people(review.chair_id, attendee_ids)
    review.title = checked_text(title, "A title", "title", TITLE_MAX_LENGTH, required=True)
    review.agenda = checked_text(agenda, "The agenda", "agenda", TEXT_MAX_LENGTH, False)
    review.guests = checked_text(guests, "The guests", "guests", TEXT_MAX_LENGTH, False)
    review.attendees = attendees
    for key, value in {
        "external_issues": external_issues,
        "resources": resources,
        "risk_actions": risk_actions,
        "improvement_opportunities": improvement_opportunities,
    }.items():
        setattr(review, key, checked_text(value, "The text", key, TEXT_MAX_LENGTH, False))
    flush_or_refuse_stale(db.session, label)
    return review


def set_note(
    review: ManagementReview,
    section: str,
    note: str,
    *,
    expected_version: object,
    user: User | None = None,
) -> ManagementReview:
    """The meeting's note on one input section (held reviews, before approval)."""
    _require_edit(user, review)
    label = f"The review {review.reference}"
    ensure_current_version(review, expected_version, label)
    _refuse_frozen(review, "add notes")
    if review.status != ReviewStatus.HELD:
        raise ServiceError("Notes are taken once the meeting is held.", field="note")
    if section not in SECTION_KEYS or section in FREE_TEXT_SECTIONS:
        raise ServiceError("Choose an input section.", field="section")
    notes = review.notes
    text = checked_text(note, "The note", "note", TEXT_MAX_LENGTH, False)
    if text:
        notes[section] = text
    else:
        notes.pop(section, None)
    review.notes_json = json.dumps(notes, sort_keys=True)
    flush_or_refuse_stale(db.session, label)
    return review


# --- outputs ---------------------------------------------------------------------------------


def add_output(
    review: ManagementReview,
    *,
    kind: Any,
    text: str,
    owner_id: Any = None,
    due_date: date | None = None,
    user: User | None = None,
) -> ReviewOutput:
    """Record a decision, or an action with its owner and due date (both required for an
    action), while the review is held."""
    _require_edit(user, review)
    _refuse_frozen(review, "record outputs")
    if review.status != ReviewStatus.HELD:
        raise ServiceError("Decisions and actions are recorded once the meeting is held.")
    output_kind = checked_choice(OutputKind, kind, "decision or action", "kind")
    text = checked_text(text, "The text", "text", TEXT_MAX_LENGTH, required=True)
    owner = None
    if output_kind == OutputKind.ACTION:
        if owner_id in (None, ""):
            raise ServiceError("An action needs an owner.", field="owner_id")
        owner = db.session.get(User, int(owner_id))
        if owner is None or not owner.active:
            raise ServiceError("The owner must be an active user.", field="owner_id")
        if due_date is None:
            raise ServiceError("An action needs a due date.", field="due_date")
        if due_date < review.meeting_date:
            raise ServiceError("The due date cannot be before the meeting.", field="due_date")
    else:
        due_date = None
    output = ReviewOutput(
        review=review,
        number=1
        + max((item.number for item in review.outputs if item.kind == output_kind), default=0),
        kind=output_kind,
        text=text,
        owner=owner,
        due_date=due_date,
    )
    db.session.add(output)
    db.session.flush()
    return output


def action_to_capa(
    output: ReviewOutput,
    *,
    kind: str,
    principle_ids: Iterable[int],
    user: User,
) -> Capa:
    """Turn an action into a CAPA (planned, same owner, due date and text), linked to it: the
    action stays open until the CAPA closes. Quality leads only (they plan CAPAs)."""
    if output.kind != OutputKind.ACTION:
        raise ServiceError("Only an action can become a CAPA.")
    if output.capa_id is not None:
        raise ServiceError(f"{output.reference} is already {output.capa.reference}.")  # type: ignore[union-attr]
    if output.done_at is not None:
        raise ServiceError(f"{output.reference} is done.")
    if not role_can(user.role, Permission.RECORDS_MANAGE):
        raise NotPermitted("Only a quality lead may plan a CAPA.")
    capa = capa_services.plan_capa(
        kind=kind,
        recovery_dimension="process",
        title=output.text.splitlines()[0][: capa_services.TITLE_MAX_LENGTH],
        description=f"Action {output.reference} of the management review "
        f"{output.review.reference}.\n\n{output.text}",
        owner_id=output.owner_id,
        due_date=max(output.due_date, capa_services.today_utc()) if output.due_date else None,
        principle_ids=principle_ids,
        user=user,
    )
    output.capa = capa
    db.session.flush()
    return capa


def complete_action(output: ReviewOutput, *, user: User) -> ReviewOutput:
    """Mark an action done (its owner, a quality lead or the chair). An action that became a
    CAPA is done when its CAPA closes."""
    review = output.review
    if user.role == Role.AUDITOR or not (
        may_edit(user, review) or (output.owner_id is not None and user.id == output.owner_id)
    ):
        raise NotPermitted("Only the action's owner, the chair or a quality lead may complete it.")
    if output.kind != OutputKind.ACTION:
        raise ServiceError("Only an action can be completed.")
    if output.capa_id is not None:
        raise ServiceError(f"{output.reference} is done when {output.capa.reference} closes.")  # type: ignore[union-attr]
    if output.done_at is not None:
        raise ServiceError(f"{output.reference} is already done.")
    output.done_at = utcnow()
    db.session.flush()
    return output


# --- approving the minutes -------------------------------------------------------------------


def approve_minutes(
    review: ManagementReview,
    user: User,
    password: str,
    *,
    expected_version: object = None,
) -> Signature:
    """The chair approves the minutes under their electronic signature (meaning approved); the
    review is then read-only. A wrong password changes nothing."""
    if user.role == Role.AUDITOR:
        raise NotPermitted("Auditors read reviews; they do not change them.")
    if expected_version is not None:
        ensure_current_version(review, expected_version, f"The review {review.reference}")
    refused = REVIEW_WORKFLOW.refusal(REVIEW_WORKFLOW.get("approve"), review, user)
    if refused:
        raise TransitionRefused(refused)
    with all_or_nothing(db.session):
        REVIEW_WORKFLOW.fire(review, "approve", user)
        return sign_record(
            review,
            user,
            password,
            "approved",
            purpose=APPROVAL_PURPOSE,
            signer_named_by_record=True,
        )
