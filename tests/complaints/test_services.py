"""Complaint services: references, the workflow and its stamps, escalation, customer recovery,
satisfaction, retention, and who may change what."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.complaints import services
from app.complaints.models import ComplaintStatus, RecoveryAction, RetentionStatus
from app.core.audit import AuditAction, AuditEvent
from app.core.db import utcnow
from app.core.errors import ServiceError, StaleRecord
from app.core.workflow import TransitionRefused
from tests.complaints.factories import (
    new_category,
    new_complaint,
    new_customer,
    new_process,
    walk,
)
from tests.factories import create_user


@pytest.fixture()
def lead(session):
    return create_user("quality_lead")


@pytest.fixture()
def contributor(session):
    return create_user("contributor")


def events_of(record, action: AuditAction) -> list[AuditEvent]:
    return list(
        services.db.session.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.record_type == record.__tablename__,
                AuditEvent.record_id == str(record.id),
                AuditEvent.action == action,
            )
            .order_by(AuditEvent.id)
        )
    )


# --- recording ---------------------------------------------------------------------------------


def test_references_follow_the_format_and_are_unique_within_a_year(lead):
    first = new_complaint(lead)
    second = new_complaint(lead)
    year = utcnow().year
    assert re.fullmatch(rf"CMP-{year}-\d{{6}}", first.reference)
    assert re.fullmatch(rf"CMP-{year}-\d{{6}}", second.reference)
    assert first.reference != second.reference
    assert int(second.reference[-6:]) == int(first.reference[-6:]) + 1


def test_reference_year_is_the_year_received(lead):
    complaint = new_complaint(lead, received_at=datetime(2024, 12, 31, 23, 30, tzinfo=UTC))
    assert complaint.reference.startswith("CMP-2024-")


def test_a_new_complaint_is_received_reported_by_the_acting_user(lead):
    before = utcnow()
    complaint = new_complaint(lead, description="  Charged twice for March.  ")
    assert complaint.status == ComplaintStatus.RECEIVED
    assert complaint.reporter_id == lead.id
    assert before <= complaint.received_at <= utcnow()
    assert complaint.description == "Charged twice for March."
    assert complaint.escalation_level == 0 and complaint.first_response_at is None
    assert len(events_of(complaint, AuditAction.CREATE)) == 1


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"title": "  "}, "title", "A title is required."),
        ({"title": "x" * 201}, "title", "at most 200"),
        ({"channel": "pigeon"}, "channel", "Choose the channel"),
        ({"severity": "urgent"}, "severity", "Choose the severity"),
        (
            {"received_at": utcnow() + timedelta(hours=1)},
            "received_at",
            "cannot be in the future",
        ),
        ({"customer_id": 999_999}, "customer_id", "The chosen customer does not exist."),
        ({"process_id": 999_999}, "process_id", "The chosen process does not exist."),
        ({"category_id": 999_999}, "category_id", "The chosen category does not exist."),
        ({"assignee_id": 999_999}, "assignee_id", "The chosen assignee does not exist."),
    ],
)
def test_recording_refuses_bad_values(lead, overrides, field, message):
    with pytest.raises(ServiceError) as refused:
        new_complaint(lead, **overrides)
    assert refused.value.field == field
    assert message in refused.value.message


def test_recording_refuses_inactive_organisation_data_and_non_working_assignees(lead):
    process = new_process(active=False)
    category = new_category(active=False)
    customer = new_customer(active=False)
    auditor = create_user("auditor")
    for overrides, field in (
        ({"process_id": process.id}, "process_id"),
        ({"category_id": category.id}, "category_id"),
        ({"customer_id": customer.id}, "customer_id"),
        ({"assignee_id": auditor.id}, "assignee_id"),
    ):
        with pytest.raises(ServiceError) as refused:
            new_complaint(lead, **overrides)
        assert refused.value.field == field


def test_recording_keeps_the_chosen_organisation_data(lead, contributor):
    process, category, customer = new_process(), new_category(), new_customer()
    complaint = new_complaint(
        lead,
        process_id=process.id,
        category_id=category.id,
        customer_id=customer.id,
        assignee_id=contributor.id,
        product_or_service="Broadband 500",
    )
    assert (complaint.process, complaint.category, complaint.customer) == (
        process,
        category,
        customer,
    )
    assert complaint.assignee == contributor
    assert complaint.product_or_service == "Broadband 500"


def test_auditors_may_not_record_complaints(session):
    with pytest.raises(services.EditNotAllowed):
        new_complaint(create_user("auditor"))


def test_get_by_reference_is_case_insensitive_and_none_when_unknown(lead):
    complaint = new_complaint(lead)
    assert services.get_by_reference(complaint.reference.lower()) is complaint
    assert services.get_by_reference("CMP-1999-000001") is None


# --- workflow ----------------------------------------------------------------------------------

PATHS = [
    ([], "acknowledge", ComplaintStatus.ACKNOWLEDGED),
    (["acknowledge"], "investigate", ComplaintStatus.INVESTIGATING),
    ([], "resolve", ComplaintStatus.RESOLVED),
    (["acknowledge"], "resolve", ComplaintStatus.RESOLVED),
    (["acknowledge", "investigate"], "resolve", ComplaintStatus.RESOLVED),
    (["resolve"], "close", ComplaintStatus.CLOSED),
    (["resolve"], "reopen", ComplaintStatus.REOPENED),
    (["resolve", "close"], "reopen", ComplaintStatus.REOPENED),
]


@pytest.mark.parametrize(("before", "name", "status"), PATHS)
def test_every_transition_moves_the_complaint(lead, before, name, status):
    complaint = walk(new_complaint(lead), lead, *before)
    services.transition_complaint(complaint, name, user=lead, reason="Customer called back")
    assert complaint.status == status
    assert events_of(complaint, AuditAction.TRANSITION)[-1].changes_dict["status"][1] == status


def test_reopened_complaints_go_back_to_investigation(lead):
    complaint = walk(new_complaint(lead), lead, "resolve", "reopen", reason="Still broken")
    services.transition_complaint(complaint, "investigate", user=lead)
    assert complaint.status == ComplaintStatus.INVESTIGATING


@pytest.mark.parametrize(
    ("before", "name", "message"),
    [
        ([], "close", "“Close” is not possible while the complaint is received."),
        (
            [],
            "investigate",
            "“Start investigation” is not possible while the complaint is received.",
        ),
        ([], "reopen", "“Reopen” is not possible while the complaint is received."),
        (
            ["acknowledge"],
            "acknowledge",
            "“Acknowledge” is not possible while the complaint is acknowledged.",
        ),
        (["resolve"], "resolve", "“Resolve” is not possible while the complaint is resolved."),
        (["resolve", "close"], "close", "“Close” is not possible while the complaint is closed."),
        (
            ["resolve", "close"],
            "resolve",
            "“Resolve” is not possible while the complaint is closed.",
        ),
        (
            ["resolve", "reopen"],
            "close",
            "“Close” is not possible while the complaint is reopened.",
        ),
        ([], "explode", "There is no action called 'explode' for a complaint."),
    ],
)
def test_refused_transitions_say_why_and_change_nothing(lead, before, name, message):
    complaint = walk(new_complaint(lead), lead, *before, reason="Customer called back")
    status = complaint.status
    with pytest.raises(TransitionRefused) as refused:
        services.transition_complaint(complaint, name, user=lead)
    assert refused.value.message == message
    assert complaint.status == status


def test_transitions_stamp_the_response_resolution_and_closure_times(lead):
    complaint = new_complaint(lead, received_at=utcnow() - timedelta(hours=5))
    services.transition_complaint(complaint, "acknowledge", user=lead)
    first_response = complaint.first_response_at
    assert first_response is not None and complaint.resolved_at is None
    services.transition_complaint(complaint, "investigate", user=lead)
    assert complaint.first_response_at == first_response  # the first response stays the first
    services.transition_complaint(complaint, "resolve", user=lead)
    assert complaint.resolved_at is not None and complaint.closed_at is None
    services.transition_complaint(complaint, "close", user=lead)
    assert complaint.closed_at is not None
    times = services.response_times(complaint)
    assert timedelta(hours=5) <= times.first_response < timedelta(hours=5, minutes=1)
    assert times.resolution >= times.first_response


def test_resolving_straight_from_received_is_first_contact_resolution(lead):
    complaint = walk(new_complaint(lead), lead, "resolve")
    assert complaint.first_contact_resolution is True
    assert complaint.first_response_at == complaint.resolved_at


@pytest.mark.parametrize("before", [["acknowledge"], ["acknowledge", "investigate"]])
def test_resolving_after_a_first_response_is_not_first_contact_resolution(lead, before):
    complaint = walk(new_complaint(lead), lead, *before, "resolve")
    assert complaint.first_contact_resolution is False


def test_reopen_needs_a_reason(lead):
    complaint = walk(new_complaint(lead), lead, "resolve")
    with pytest.raises(TransitionRefused) as refused:
        services.transition_complaint(complaint, "reopen", user=lead, reason="   ")
    assert refused.value.message == "“Reopen” needs a reason." and refused.value.field == "reason"
    assert complaint.status == ComplaintStatus.RESOLVED


def test_reopen_clears_the_resolution_and_keeps_the_reason(lead):
    complaint = walk(new_complaint(lead), lead, "resolve", "close")
    services.transition_complaint(complaint, "reopen", user=lead, reason="The refund bounced")
    assert complaint.resolved_at is None and complaint.closed_at is None
    assert complaint.first_contact_resolution is False
    assert complaint.first_response_at is not None
    assert events_of(complaint, AuditAction.TRANSITION)[-1].reason == "The refund bounced"
    walk(complaint, lead, "investigate", "resolve")
    assert complaint.first_contact_resolution is False


def test_available_transitions_follow_the_state_and_the_user(lead, contributor):
    complaint = new_complaint(lead, assignee_id=contributor.id)
    names = [t.name for t, refusal in services.available_transitions(complaint, lead)]
    assert names == ["acknowledge", "resolve"]
    walk(complaint, lead, "resolve")
    assert [t.name for t, _ in services.available_transitions(complaint, lead)] == [
        "close",
        "reopen",
    ]
    # The assignee may reopen but not close; others see nothing.
    assert [t.name for t, _ in services.available_transitions(complaint, contributor)] == ["reopen"]
    assert services.available_transitions(complaint, create_user("contributor")) == []
    assert services.available_transitions(complaint, create_user("auditor")) == []


# --- who may change a complaint ----------------------------------------------------------------


def test_may_edit_lead_and_assignee_only(lead, contributor):
    complaint = new_complaint(lead, assignee_id=contributor.id)
    assert services.may_edit(lead, complaint)
    assert services.may_edit(contributor, complaint)
    assert not services.may_edit(create_user("contributor"), complaint)
    assert not services.may_edit(create_user("auditor"), complaint)
    assert not services.may_edit(create_user("admin"), complaint)
    assert not services.may_edit(None, complaint)


def test_an_assigned_contributor_works_the_complaint_but_may_not_close_it(lead, contributor):
    complaint = new_complaint(lead, assignee_id=contributor.id)
    walk(complaint, contributor, "acknowledge", "investigate", "resolve")
    assert complaint.status == ComplaintStatus.RESOLVED
    with pytest.raises(TransitionRefused) as refused:
        services.transition_complaint(complaint, "close", user=contributor)
    assert refused.value.message == "Your role may not “Close” this complaint."
    services.add_recovery_action(complaint, user=contributor, kind="apology")
    services.record_satisfaction(complaint, user=contributor, score=4)
    assert complaint.csat_score == 4


def _every_change(complaint, user):
    """Each way of changing a complaint, as (description, callable)."""
    return [
        ("transition", lambda: services.transition_complaint(complaint, "acknowledge", user=user)),
        (
            "update",
            lambda: services.update_complaint(
                complaint,
                user=user,
                title="Changed",
                description="",
                product_or_service="",
                customer_id=None,
                process_id=None,
                category_id=None,
                severity="high",
                channel="email",
                expected_version=complaint.version,
            ),
        ),
        ("assign", lambda: services.assign_complaint(complaint, user.id, user=user)),
        ("escalate", lambda: services.escalate_complaint(complaint, 2, user=user, reason="x")),
        ("recovery", lambda: services.add_recovery_action(complaint, user=user, kind="apology")),
        ("csat", lambda: services.record_satisfaction(complaint, user=user, score=5)),
        (
            "retention",
            lambda: services.record_retention(
                complaint, user=user, status="left", follow_up_days=30
            ),
        ),
    ]


@pytest.mark.parametrize("role", ["contributor", "auditor", "admin"])
def test_only_the_lead_or_assignee_may_change_a_complaint(lead, contributor, role):
    complaint = walk(new_complaint(lead, assignee_id=contributor.id), lead, "resolve")
    outsider = create_user(role)
    for what, change in _every_change(complaint, outsider):
        with pytest.raises(services.EditNotAllowed) as refused:
            change()
        assert "Only a quality lead or the assignee" in refused.value.message, what
    assert complaint.status == ComplaintStatus.RESOLVED
    assert complaint.escalation_level == 0 and complaint.csat_score is None


def test_auditors_and_admins_cannot_be_assigned(lead):
    complaint = new_complaint(lead)
    for role in ("auditor", "admin"):
        person = create_user(role)
        with pytest.raises(ServiceError) as refused:
            services.assign_complaint(complaint, person.id, user=lead)
        assert refused.value.field == "assignee_id"
        assert "cannot work on complaints" in refused.value.message
    assert complaint.assignee_id is None


def test_assignment_and_hand_over(lead, contributor):
    complaint = new_complaint(lead)
    services.assign_complaint(complaint, contributor.id, user=lead)
    colleague = create_user("contributor")
    services.assign_complaint(complaint, colleague.id, user=contributor)
    assert complaint.assignee == colleague
    assert not services.may_edit(contributor, complaint)
    services.assign_complaint(complaint, None, user=lead)
    assert complaint.assignee_id is None


def test_changed_links_read_back_at_once_on_a_loaded_complaint(lead, contributor):
    complaint = services.get_by_reference(new_complaint(lead).reference)
    assert complaint.assignee is None and complaint.process is None  # loaded with the page
    services.assign_complaint(complaint, contributor.id, user=lead)
    assert complaint.assignee == contributor
    process = new_process()
    _edit(complaint, lead, process_id=process.id)
    assert complaint.process == process
    services.escalate_complaint(complaint, 1, user=lead, reason="VIP")
    assert complaint.escalated_by == lead


# --- editing -----------------------------------------------------------------------------------


def _edit(complaint, user, **changes):
    values = {
        "title": complaint.title,
        "description": complaint.description,
        "product_or_service": complaint.product_or_service,
        "customer_id": complaint.customer_id,
        "process_id": complaint.process_id,
        "category_id": complaint.category_id,
        "severity": complaint.severity.value,
        "channel": complaint.channel.value,
        "expected_version": complaint.version,
    }
    return services.update_complaint(complaint, user=user, **{**values, **changes})


def test_update_changes_the_editable_fields_only(lead):
    complaint = walk(new_complaint(lead), lead, "acknowledge")
    process = new_process()
    first_response = complaint.first_response_at
    _edit(complaint, lead, title="Charged three times", severity="high", process_id=process.id)
    assert complaint.title == "Charged three times"
    assert complaint.severity.value == "high" and complaint.process == process
    assert complaint.status == ComplaintStatus.ACKNOWLEDGED
    assert complaint.first_response_at == first_response


def test_saving_an_unchanged_form_changes_nothing_in_the_trail(lead):
    complaint = new_complaint(lead, description="Ordered on the 2nd.\nArrived on the 10th.")
    updates_before = len(events_of(complaint, AuditAction.UPDATE))
    # A browser sends the text area back with CRLF line breaks.
    _edit(complaint, lead, description="Ordered on the 2nd.\r\nArrived on the 10th.")
    assert complaint.description == "Ordered on the 2nd.\nArrived on the 10th."
    assert len(events_of(complaint, AuditAction.UPDATE)) == updates_before


def test_a_stale_edit_is_refused(lead):
    complaint = new_complaint(lead)
    stale_version = complaint.version
    _edit(complaint, lead, title="First edit")
    with pytest.raises(StaleRecord) as refused:
        _edit(complaint, lead, title="Second edit", expected_version=stale_version)
    assert "changed by someone else" in refused.value.message
    assert complaint.title == "First edit"


def test_a_closed_complaint_cannot_be_edited(lead):
    complaint = walk(new_complaint(lead), lead, "resolve", "close")
    with pytest.raises(ServiceError) as refused:
        _edit(complaint, lead, title="Too late")
    assert "is closed and read-only; reopen it (with a reason)" in refused.value.message


def test_an_inactive_process_the_complaint_already_has_may_stay(lead):
    process = new_process()
    complaint = new_complaint(lead, process_id=process.id)
    process.active = False
    _edit(complaint, lead, title="Still about the old process")
    assert complaint.process_id == process.id


# --- escalation --------------------------------------------------------------------------------


def test_escalation_records_who_when_and_why(lead):
    complaint = new_complaint(lead)
    services.escalate_complaint(complaint, 2, user=lead, reason="Customer threatens to leave")
    assert complaint.escalation_level == 2
    assert complaint.escalated_by == lead and complaint.escalated_at is not None
    event = events_of(complaint, AuditAction.UPDATE)[-1]
    assert event.reason == "Customer threatens to leave"
    assert event.changes_dict["escalation_level"] == [0, 2]
    services.escalate_complaint(complaint, "0", user=lead, reason="Settled")
    assert complaint.escalation_level == 0


@pytest.mark.parametrize(
    ("level", "reason", "field", "message"),
    [
        (4, "why", "level", "from 0 to 3"),
        (-1, "why", "level", "from 0 to 3"),
        ("high", "why", "level", "from 0 to 3"),
        (0, "why", "level", "is already at escalation level 0"),
        (1, "  ", "reason", "A reason is required."),
    ],
)
def test_escalation_refusals(lead, level, reason, field, message):
    complaint = new_complaint(lead)
    with pytest.raises(ServiceError) as refused:
        services.escalate_complaint(complaint, level, user=lead, reason=reason)
    assert refused.value.field == field and message in refused.value.message
    assert complaint.escalation_level == 0 and complaint.escalated_at is None


# --- customer recovery -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["refund", "compensation", "goodwill"])
def test_money_recovery_needs_an_amount_and_a_currency(lead, kind):
    complaint = new_complaint(lead)
    with pytest.raises(ServiceError) as refused:
        services.add_recovery_action(complaint, user=lead, kind=kind, currency="EUR")
    assert refused.value.field == "amount" and "needs the amount" in refused.value.message
    with pytest.raises(ServiceError) as refused:
        services.add_recovery_action(complaint, user=lead, kind=kind, amount="10")
    assert refused.value.field == "currency"
    action = services.add_recovery_action(
        complaint, user=lead, kind=kind, amount="49.90", currency="eur"
    )
    assert (action.amount, action.currency) == (Decimal("49.90"), "EUR")
    assert action.done_by == lead and action.done_at <= utcnow()


@pytest.mark.parametrize(
    ("amount", "currency", "field", "message"),
    [
        ("0", "EUR", "amount", "more than 0"),
        ("-5", "EUR", "amount", "more than 0"),
        ("1.005", "EUR", "amount", "two decimal places"),
        ("ten", "EUR", "amount", "must be a number"),
        ("NaN", "EUR", "amount", "must be a number"),
        ("10000000000", "EUR", "amount", "below 10,000,000,000"),
        ("10", "EURO", "currency", "ISO 4217"),
        ("10", "XYZ", "currency", "ISO 4217"),
    ],
)
def test_recovery_amount_and_currency_are_checked(lead, amount, currency, field, message):
    complaint = new_complaint(lead)
    with pytest.raises(ServiceError) as refused:
        services.add_recovery_action(
            complaint, user=lead, kind="refund", amount=amount, currency=currency
        )
    assert refused.value.field == field and message in refused.value.message


def test_other_recovery_kinds_may_carry_a_cost(lead):
    complaint = new_complaint(lead)
    apology = services.add_recovery_action(complaint, user=lead, kind="apology")
    assert apology.amount is None and apology.currency is None
    replacement = services.add_recovery_action(
        complaint, user=lead, kind="replacement", amount="120", currency="GBP"
    )
    assert replacement.amount == Decimal("120.00")
    with pytest.raises(ServiceError) as refused:
        services.add_recovery_action(complaint, user=lead, kind="replacement", currency="GBP")
    assert refused.value.field == "amount"
    assert services.recovery_costs(complaint) == {"GBP": Decimal("120.00")}


def test_other_needs_a_description(lead):
    complaint = new_complaint(lead)
    with pytest.raises(ServiceError) as refused:
        services.add_recovery_action(complaint, user=lead, kind="other")
    assert refused.value.field == "description"


def test_recovery_time_lies_between_receipt_and_now(lead):
    complaint = new_complaint(lead, received_at=utcnow() - timedelta(days=2))
    with pytest.raises(ServiceError) as refused:
        services.add_recovery_action(
            complaint, user=lead, kind="apology", done_at=utcnow() + timedelta(hours=1)
        )
    assert refused.value.field == "done_at" and "future" in refused.value.message
    with pytest.raises(ServiceError) as refused:
        services.add_recovery_action(
            complaint, user=lead, kind="apology", done_at=utcnow() - timedelta(days=3)
        )
    assert refused.value.field == "done_at" and "before the complaint" in refused.value.message
    done_at = utcnow() - timedelta(days=1)
    action = services.add_recovery_action(complaint, user=lead, kind="apology", done_at=done_at)
    assert action.done_at == done_at


def test_recovery_done_by_someone_else(lead, contributor):
    complaint = new_complaint(lead)
    action = services.add_recovery_action(
        complaint, user=lead, kind="explanation", done_by_id=contributor.id
    )
    assert action.done_by == contributor
    with pytest.raises(ServiceError) as refused:
        services.add_recovery_action(
            complaint, user=lead, kind="apology", done_by_id=create_user("auditor").id
        )
    assert refused.value.field == "done_by_id"


def test_history_includes_the_recovery_actions(lead):
    complaint = new_complaint(lead)
    action = services.add_recovery_action(complaint, user=lead, kind="apology")
    history = services.complaint_history(complaint)
    assert [(event.record_type, event.action) for event in history] == [
        ("complaint", AuditAction.CREATE),
        ("recovery_action", AuditAction.CREATE),
    ]
    assert history[1].record_id == str(action.id)


# --- satisfaction and retention ----------------------------------------------------------------


@pytest.mark.parametrize("before", [[], ["acknowledge"], ["acknowledge", "investigate"]])
def test_csat_only_after_resolution(lead, before):
    complaint = walk(new_complaint(lead), lead, *before)
    with pytest.raises(ServiceError) as refused:
        services.record_satisfaction(complaint, user=lead, score=5)
    assert refused.value.field == "score"
    assert "once the complaint is resolved or closed" in refused.value.message
    assert complaint.csat_score is None


@pytest.mark.parametrize("score", [0, 6, "five", None])
def test_csat_is_from_one_to_five(lead, score):
    complaint = walk(new_complaint(lead), lead, "resolve")
    with pytest.raises(ServiceError) as refused:
        services.record_satisfaction(complaint, user=lead, score=score)
    assert refused.value.field == "score" and "from 1 to 5" in refused.value.message


def test_csat_is_recorded_after_resolution(lead):
    complaint = walk(new_complaint(lead), lead, "resolve")
    services.record_satisfaction(complaint, user=lead, score="4", comment=" Quick refund ")
    assert complaint.csat_score == 4 and complaint.csat_comment == "Quick refund"
    assert complaint.csat_recorded_at is not None


def test_csat_cannot_be_recorded_on_a_reopened_complaint(lead):
    complaint = walk(new_complaint(lead), lead, "resolve", "reopen", reason="Not fixed")
    with pytest.raises(ServiceError):
        services.record_satisfaction(complaint, user=lead, score=2)


def test_retention_only_after_resolution(lead):
    complaint = new_complaint(lead)
    with pytest.raises(ServiceError) as refused:
        services.record_retention(complaint, user=lead, status="left", follow_up_days=30)
    assert refused.value.field == "status"


def test_stayed_can_be_said_only_after_the_follow_up_period(lead):
    complaint = walk(new_complaint(lead), lead, "resolve")
    with pytest.raises(ServiceError) as refused:
        services.record_retention(complaint, user=lead, status="stayed", follow_up_days=90)
    assert refused.value.field == "follow_up_days" and "is due on" in refused.value.message
    complaint.resolved_at = utcnow() - timedelta(days=91)
    services.record_retention(complaint, user=lead, status="stayed", follow_up_days=90)
    assert complaint.retention_status == RetentionStatus.STAYED
    assert complaint.retention_follow_up_days == 90 and complaint.retention_checked_at


def test_left_is_recorded_at_once(lead):
    complaint = walk(new_complaint(lead), lead, "resolve", "close")
    services.record_retention(complaint, user=lead, status="left", follow_up_days="30")
    assert complaint.retention_status == RetentionStatus.LEFT


@pytest.mark.parametrize(
    ("status", "days", "field"),
    [("stayed", 0, "follow_up_days"), ("left", 3651, "follow_up_days"), ("maybe", 30, "status")],
)
def test_retention_refusals(lead, status, days, field):
    complaint = walk(new_complaint(lead), lead, "resolve")
    with pytest.raises(ServiceError) as refused:
        services.record_retention(complaint, user=lead, status=status, follow_up_days=days)
    assert refused.value.field == field
    assert complaint.retention_checked_at is None


# --- helpers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (None, "—"),
        (timedelta(seconds=20), "under a minute"),
        (timedelta(minutes=25), "25 min"),
        (timedelta(hours=4, minutes=10), "4 h 10 min"),
        (timedelta(days=2, hours=3, minutes=5), "2 d 3 h"),
    ],
)
def test_format_duration(delta, text):
    assert services.format_duration(delta) == text


def test_overdue_means_open_and_received_long_ago(lead):
    old = new_complaint(lead, received_at=utcnow() - timedelta(days=15))
    recent = new_complaint(lead, received_at=utcnow() - timedelta(days=13))
    assert services.is_overdue(old) and not services.is_overdue(recent)
    walk(old, lead, "resolve")
    assert not services.is_overdue(old)
    assert services.is_overdue(recent, days=10)


def test_recovery_actions_are_stored(lead):
    complaint = new_complaint(lead)
    services.add_recovery_action(complaint, user=lead, kind="apology")
    stored = services.db.session.scalars(
        select(RecoveryAction).where(RecoveryAction.complaint_id == complaint.id)
    ).all()
    assert [action.kind.value for action in stored] == ["apology"]
