"""Management-review services without HTTP: scheduling, the frozen inputs, outputs, actions that
become CAPAs and carry over to the next review, and the chair's signed approval."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.core.db import utcnow
from app.core.errors import ServiceError, StaleRecord
from app.core.workflow import RecordLocked, TransitionRefused
from app.reviews import services
from app.reviews.models import ReviewStatus
from tests.audits import factories as f
from tests.conftest import TEST_PASSWORD
from tests.nonconformities.factories import make_complaint


def _review(chair, **fields):
    today = utcnow().date()
    return services.schedule_review(
        title=fields.pop("title", "Management review Q4"),
        meeting_date=fields.pop("meeting_date", today),
        period_start=fields.pop("period_start", today - timedelta(days=30)),
        period_end=fields.pop("period_end", today),
        chair_id=chair.id,
        **fields,
    )


def test_scheduling_refuses_dates_out_of_order_and_unfit_chairs(session) -> None:
    lead = f.user()
    today = utcnow().date()
    with pytest.raises(ServiceError, match="cannot end") as error:
        _review(lead, period_start=today, period_end=today - timedelta(days=1), user=lead)
    assert error.value.field == "period_end"
    with pytest.raises(ServiceError, match="cannot chair"):
        _review(f.user("auditor"), user=lead)
    with pytest.raises(services.NotPermitted):
        _review(lead, user=f.user("contributor"))
    review = _review(lead, guests="Pat Partner\n\nSam Supplier", user=lead)
    assert review.reference.startswith("MR-") and review.status == ReviewStatus.DRAFT
    assert review.guest_list == ["Pat Partner", "Sam Supplier"]
    assert lead in review.attendees


def test_holding_freezes_the_inputs_against_later_complaints(session) -> None:
    lead = f.user("quality_lead", "Chris Chair")
    billing = f.process("Billing")
    make_complaint(process_id=billing.id, received_at=utcnow() - timedelta(days=2))
    review = _review(lead, user=lead)
    assert services.preview_inputs(review)["customer"]["kpis"][0]["value"] == 1
    services.hold_review(review, lead)
    assert review.status == ReviewStatus.HELD and review.held_at is not None
    frozen = review.inputs_json
    assert review.inputs["customer"]["kpis"][0]["value"] == 1
    billing_row = next(
        row for row in review.inputs["processes"]["per_process"] if row["process"] == "Billing"
    )
    assert billing_row["complaints"] == 1
    assert "weekly-complaints" in review.charts
    make_complaint(process_id=billing.id, received_at=utcnow() - timedelta(hours=1))
    session.flush()
    assert review.inputs_json == frozen
    assert services.preview_inputs(review)["customer"]["kpis"][0]["value"] == 2
    # Holding again (collecting the inputs anew) is refused; the frozen inputs stay.
    with pytest.raises(TransitionRefused, match="not possible while the management review is held"):
        services.hold_review(review, lead)
    assert review.inputs_json == frozen


def test_a_future_meeting_cannot_be_held_yet(session) -> None:
    lead = f.user()
    review = _review(lead, meeting_date=utcnow().date() + timedelta(days=5), user=lead)
    with pytest.raises(TransitionRefused, match="hold it on that day or later"):
        services.hold_review(review, lead)


def test_outputs_actions_to_capa_and_open_actions_carry_over(session) -> None:
    lead = f.user("quality_lead", "Chris Chair")
    owner = f.user("contributor", "Olive Owner")
    first = _review(lead, meeting_date=utcnow().date() - timedelta(days=1), user=lead)
    with pytest.raises(ServiceError, match="once the meeting is held"):
        services.add_output(first, kind="decision", text="Hire", user=lead)
    services.hold_review(first, lead)
    decision = services.add_output(first, kind="decision", text="Keep the policy", user=lead)
    assert decision.reference == f"{first.reference}/D1"
    with pytest.raises(ServiceError, match="needs an owner"):
        services.add_output(first, kind="action", text="Train staff", user=lead)
    train = services.add_output(
        first,
        kind="action",
        text="Train dispatch staff on labels",
        owner_id=owner.id,
        due_date=utcnow().date() + timedelta(days=30),
        user=lead,
    )
    fix = services.add_output(
        first,
        kind="action",
        text="Fix the label printer",
        owner_id=owner.id,
        due_date=utcnow().date() + timedelta(days=10),
        user=lead,
    )
    capa = services.action_to_capa(train, kind="corrective", principle_ids=[2], user=lead)
    assert train.capa == capa and capa.owner == owner
    with pytest.raises(ServiceError, match="is already"):
        services.action_to_capa(train, kind="corrective", principle_ids=[2], user=lead)
    services.complete_action(fix, user=owner)
    services.set_note(
        first, "customer", "Complaints fell.", expected_version=first.version, user=lead
    )
    assert first.notes == {"customer": "Complaints fell."}
    with pytest.raises(ServiceError) as error:
        services.approve_minutes(first, lead, "wrong password")
    assert error.value.field == "password"
    assert first.status == ReviewStatus.HELD
    with pytest.raises(ServiceError):
        services.approve_minutes(first, owner, TEST_PASSWORD)
    signature = services.approve_minutes(first, lead, TEST_PASSWORD)
    assert (
        signature.purpose == "management_review_minutes" and signature.meaning.value == "approved"
    )
    assert first.status == ReviewStatus.MINUTES_APPROVED
    with pytest.raises(RecordLocked):
        services.add_output(first, kind="decision", text="More", user=lead)

    second = _review(lead, title="Next review", user=lead)
    services.hold_review(second, lead)
    carried = second.inputs["previous_actions"]
    assert [row["reference"] for row in carried] == [train.reference]
    assert carried[0]["capa"] == capa.reference and carried[0]["owner"] == "Olive Owner"


def test_stale_edits_and_strangers_are_refused(session) -> None:
    lead = f.user()
    review = _review(lead, user=lead)
    values = dict(
        title="Renamed",
        agenda="1. Inputs",
        guests="",
        attendee_ids=[],
        external_issues="New regulation on refunds",
        resources="",
        risk_actions="",
        improvement_opportunities="",
    )
    with pytest.raises(StaleRecord):
        services.update_review(review, expected_version=review.version + 1, user=lead, **values)
    with pytest.raises(services.NotPermitted):
        services.update_review(
            review, expected_version=review.version, user=f.user("contributor"), **values
        )
    services.update_review(review, expected_version=review.version, user=lead, **values)
    assert review.external_issues == "New regulation on refunds"
