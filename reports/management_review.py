"""The minutes of a management review (ISO 9001 clause 9.3): the meeting, the inputs as they were
frozen when it was held (with the review pack's charts), the notes, decisions and actions, the
attendees and the chair's approval signature."""

from __future__ import annotations

from app.core.signatures import changed_after_signature
from app.reviews import services as review_services
from app.reviews.inputs import FREE_TEXT_SECTIONS, SECTIONS
from app.reviews.models import ManagementReview, ReviewStatus
from reports.base import (
    Report,
    day,
    events_of,
    history_data,
    name_of,
    report_data,
    signature_data,
    when,
)


def gather_review_minutes(review: ManagementReview) -> Report:
    """The minutes of `review`. A draft has no frozen inputs yet: its minutes say so and show
    the inputs as they would be collected now, marked as a preview."""
    from app.accounts.services import signatures_of

    filters = [("Record", review.reference)]
    frozen = review.status != ReviewStatus.DRAFT
    inputs = review.inputs if frozen else review_services.preview_inputs(review)
    data = report_data(
        filters,
        review={
            "reference": review.reference,
            "title": review.title,
            "status": review.status.label,
            "meeting_date": day(review.meeting_date),
            "period_start": day(review.period_start),
            "period_end": day(review.period_end),
            "chair": review.chair.full_name,
            "attendees": [user.full_name for user in review.attendees],
            "guests": review.guest_list,
            "agenda": review.agenda,
            "held_at": when(review.held_at),
            "inputs_sha256": review.inputs_sha256,
            "frozen": frozen,
        },
        sections=[{"key": key, "title": title} for key, title in SECTIONS],
        free_text={key: getattr(review, key) for key in FREE_TEXT_SECTIONS},
        inputs=inputs,
        notes=review.notes,
        outputs=[
            {
                "reference": output.reference,
                "kind": output.kind.label,
                "text": output.text,
                "owner": name_of(output.owner),
                "due_date": day(output.due_date),
                "capa": output.capa.reference if output.capa else None,
                "done_at": when(output.done_at),
            }
            for output in review.outputs
        ],
        signatures=[
            signature_data(
                signature,
                review.reference,
                changed_after_signature(signature, review),
                "approval of the minutes (chair)",
            )
            for signature in signatures_of(review)
        ],
        history=history_data(events_of([review, *review.outputs]), {}),
    )
    return Report(
        kind="management_review",
        title=f"Management review minutes {review.reference}",
        template="management_review.html",
        data=data,
        filters=filters,
        record_type="management_review",
        record_id=str(review.id),
        filename_stem=f"{review.reference}-minutes",
        subject=f"{review.reference}: {review.title}",
        keywords=[review.reference, "management review", "ISO 9001 9.3"],
        charts=review.charts if frozen else {},
    )
