"""The management-review workflow: draft → held → minutes_approved.

Holding the meeting freezes its inputs (app.reviews.services.hold_review); approving the minutes
is the chair's electronic signature, after which the review is read-only."""

from __future__ import annotations

from typing import Any

from app.core.db import utcnow
from app.core.permissions import Permission, Role
from app.core.workflow import Workflow, transition
from app.reviews.models import ManagementReview, ReviewStatus

S = ReviewStatus


def _meeting_day_reached(review: ManagementReview) -> str | None:
    if review.meeting_date > utcnow().date():
        return f"The meeting is on {review.meeting_date:%Y-%m-%d}; hold it on that day or later."
    return None


def _only_the_chair(review: ManagementReview, user: Any) -> str | None:
    if user is not None and user.id != review.chair_id:
        return f"Only the chair ({review.chair.full_name}) approves the minutes."
    return None


def _stamp_approval(review: ManagementReview, user: Any, previous: str) -> None:
    review.approved_at = utcnow()


def chair_of(review: ManagementReview) -> list[int]:
    chair = review.chair
    return [chair.id] if chair is not None and chair.role != Role.AUDITOR else []


REVIEW_WORKFLOW: Workflow[ManagementReview] = Workflow(
    record_label="management review",
    states=tuple(status.value for status in ReviewStatus),
    initial=S.DRAFT,
    assignee_of=chair_of,
    locked_states=frozenset({S.MINUTES_APPROVED}),
    transitions=(
        transition(
            "hold",
            "Hold the meeting (freeze the inputs)",
            S.DRAFT,
            S.HELD,
            Permission.RECORDS_MANAGE,
            assignee_may=True,
            guards=[_meeting_day_reached],
        ),
        transition(
            "approve",
            "Approve the minutes",
            S.HELD,
            S.MINUTES_APPROVED,
            Permission.RECORDS_MANAGE,
            assignee_may=True,
            duties=[_only_the_chair],
            effects=[_stamp_approval],
        ),
    ),
)
