"""The CAPA workflow through the services: every transition, guard, role rule and signature."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.accounts.models import LoginAttempt
from app.capa import effectiveness as capa_effectiveness
from app.capa import services
from app.capa import training as capa_training
from app.capa.models import Capa, CapaStatus, CheckResult
from app.core.audit import AuditAction, AuditEvent
from app.core.errors import ServiceError
from app.core.signatures import Signature, SignatureMeaning, content_hash
from app.core.workflow import TransitionRefused
from app.extensions import db
from tests import factories as users
from tests.capa.factories import advance, pending_check, plan
from tests.conftest import TEST_PASSWORD


def signature_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Signature)) or 0


@pytest.fixture()
def lead(session):
    return users.create_user("quality_lead")


@pytest.fixture()
def signer(session):
    """A second quality lead: the owner and implementer of a CAPA may not sign it."""
    return users.create_user("quality_lead", full_name="Sam Signer")


def test_start_needs_a_principle(session, lead):
    capa = plan(lead)
    capa.principles = []
    session.flush()
    with pytest.raises(TransitionRefused, match="at least one TQM principle"):
        services.transition_capa(capa, "start", lead)
    capa.principles = services.list_principles()[:1]
    services.transition_capa(capa, "start", lead)
    assert capa.status == CapaStatus.IN_PROGRESS


def test_the_whole_happy_path_stamps_implementation_and_closure(session, lead, signer):
    capa = plan(lead)
    services.transition_capa(capa, "start", lead)
    services.transition_capa(capa, "implement", lead)
    assert capa.status == CapaStatus.IMPLEMENTED and capa.implemented_at is not None
    check = pending_check(capa, lead)
    services.transition_capa(capa, "verify", lead)
    assert capa.status == CapaStatus.VERIFYING
    outcome = capa_effectiveness.record_check_result(
        check, result="passed", evidence="OK", user=lead
    )
    assert not outcome.follow_up_required and "sign" in outcome.message
    services.verify_effectiveness(capa, signer, TEST_PASSWORD, "verified")
    assert capa.status == CapaStatus.EFFECTIVE
    services.close_capa(capa, signer, TEST_PASSWORD, "approved")
    assert capa.status == CapaStatus.CLOSED and capa.closed_at is not None
    transitions = db.session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.record_type == "capa",
            AuditEvent.record_id == str(capa.id),
            AuditEvent.action == AuditAction.TRANSITION,
        )
        .order_by(AuditEvent.id)
    ).all()
    assert [event.changes_dict["status"][1] for event in transitions] == [
        "in_progress",
        "implemented",
        "verifying",
        "effective",
        "closed",
    ]


def test_wrong_state_is_refused_with_the_reason(session, lead):
    capa = plan(lead)
    with pytest.raises(TransitionRefused, match="not possible while the CAPA is planned"):
        services.transition_capa(capa, "implement", lead)
    with pytest.raises(TransitionRefused, match="no action called"):
        services.transition_capa(capa, "teleport", lead)


def test_signed_transitions_cannot_be_fired_without_a_signature(session, lead):
    capa = advance(plan(lead), CapaStatus.VERIFYING, lead)
    capa_effectiveness.record_check_result(
        pending_check(capa, lead), result="passed", evidence="ok", user=lead
    )
    for name in ("mark_effective", "close", "close_ineffective"):
        with pytest.raises(TransitionRefused, match="electronic signature"):
            services.transition_capa(capa, name, lead)
    assert capa.status == CapaStatus.VERIFYING


def test_an_employee_recovery_capa_needs_completed_training_to_be_implemented(session, lead):
    staff = users.create_user("contributor")
    capa = plan(lead, recovery_dimension="employee")
    services.transition_capa(capa, "start", lead)
    with pytest.raises(TransitionRefused, match="needs at least one training assignment"):
        services.transition_capa(capa, "implement", lead)
    training = capa_training.assign_training(
        capa,
        staff_id=staff.id,
        topic="Spotting duplicate refunds",
        due_date=services.today_utc() + timedelta(days=7),
        user=lead,
    )
    with pytest.raises(TransitionRefused, match="1 training assignment\\(s\\) are not completed"):
        services.transition_capa(capa, "implement", lead)
    capa_training.complete_training(training, staff)
    assert training.completed_at is not None
    services.transition_capa(capa, "implement", lead)
    assert capa.status == CapaStatus.IMPLEMENTED


def test_a_process_capa_may_have_training_without_it_gating_implementation(session, lead):
    staff = users.create_user("contributor")
    capa = plan(lead)
    capa_training.assign_training(
        capa,
        staff_id=staff.id,
        topic="Briefing",
        due_date=services.today_utc(),
        user=lead,
    )
    services.transition_capa(capa, "start", lead)
    services.transition_capa(capa, "implement", lead)
    assert capa.status == CapaStatus.IMPLEMENTED


def test_verification_needs_a_planned_check(session, lead):
    capa = advance(plan(lead), CapaStatus.IMPLEMENTED, lead)
    with pytest.raises(TransitionRefused, match="Plan an effectiveness check first"):
        services.transition_capa(capa, "verify", lead)


def test_a_capa_cannot_be_effective_without_a_passed_check(session, lead):
    capa = advance(plan(lead), CapaStatus.VERIFYING, lead)
    with pytest.raises(TransitionRefused, match="without a passed effectiveness check"):
        services.verify_effectiveness(capa, lead, TEST_PASSWORD, "verified")
    assert capa.status == CapaStatus.VERIFYING
    assert signature_count() == 0


def test_mark_ineffective_needs_a_failed_check(session, lead):
    capa = advance(plan(lead), CapaStatus.VERIFYING, lead)
    with pytest.raises(TransitionRefused, match="Only a failed effectiveness check"):
        services.transition_capa(capa, "mark_ineffective", lead)


def test_a_failed_check_makes_the_capa_ineffective_and_asks_for_a_follow_up(session, lead):
    capa = advance(plan(lead), CapaStatus.VERIFYING, lead)
    check = pending_check(capa, lead)
    outcome = capa_effectiveness.record_check_result(
        check, result="failed", evidence="Two duplicate refunds in May", user=lead
    )
    assert capa.status == CapaStatus.INEFFECTIVE
    assert outcome.follow_up_required
    assert "A follow-up action is required" in outcome.message
    assert check.result == CheckResult.FAILED and check.checked_by_id == lead.id


def test_a_failed_check_before_verification_leaves_marking_ineffective_for_later(session, lead):
    capa = advance(plan(lead), CapaStatus.IMPLEMENTED, lead)
    check = pending_check(capa, lead)
    outcome = capa_effectiveness.record_check_result(
        check, result="failed", evidence="Again", user=lead
    )
    assert capa.status == CapaStatus.IMPLEMENTED and outcome.follow_up_required
    services.transition_capa(capa, "verify", lead)
    services.transition_capa(capa, "mark_ineffective", lead)
    assert capa.status == CapaStatus.INEFFECTIVE


def test_an_ineffective_capa_closes_only_once_a_follow_up_exists(session, lead, signer):
    capa = advance(plan(lead), CapaStatus.INEFFECTIVE, lead)
    with pytest.raises(TransitionRefused, match="needs a follow-up action before it can close"):
        services.close_capa(capa, signer, TEST_PASSWORD, "approved")
    assert signature_count() == 0
    services.create_follow_up(
        capa,
        kind="corrective",
        recovery_dimension="employee",
        title="Train the refund desk",
        owner_id=lead.id,
        due_date=services.today_utc() + timedelta(days=14),
        principle_ids=[2],
    )
    signature = services.close_capa(capa, signer, TEST_PASSWORD, "approved")
    assert capa.status == CapaStatus.CLOSED
    assert signature.purpose == services.CLOSURE_PURPOSE


def test_signing_needs_the_right_password_and_then_saves_nothing(session, lead, signer):
    capa = advance(plan(lead), CapaStatus.VERIFYING, lead)
    capa_effectiveness.record_check_result(
        pending_check(capa, lead), result="passed", evidence="ok", user=lead
    )
    version = capa.version
    with pytest.raises(ServiceError) as refused:
        services.verify_effectiveness(capa, signer, "not the password", "verified")
    assert refused.value.field == "password"
    # Nothing was changed, even before the caller rolls back.
    assert capa.status == CapaStatus.VERIFYING and capa.version == version
    assert signature_count() == 0
    with pytest.raises(ServiceError) as refused:
        services.verify_effectiveness(capa, signer, TEST_PASSWORD, "authored-by-magic")
    assert refused.value.field == "meaning"
    assert capa.status == CapaStatus.VERIFYING


def test_signatures_keep_meaning_purpose_and_the_content_hash(session, lead, signer):
    capa = advance(plan(lead), CapaStatus.VERIFYING, lead)
    capa_effectiveness.record_check_result(
        pending_check(capa, lead), result="passed", evidence="ok", user=lead
    )
    effectiveness = services.verify_effectiveness(capa, signer, TEST_PASSWORD, "verified")
    assert effectiveness.meaning == SignatureMeaning.VERIFIED
    assert effectiveness.purpose == "capa_effectiveness"
    assert effectiveness.signer_name == signer.full_name
    assert effectiveness.content_hash == content_hash(capa)
    closure = services.close_capa(capa, signer, TEST_PASSWORD, "approved")
    assert closure.meaning == SignatureMeaning.APPROVED
    assert closure.content_hash == content_hash(capa)
    rows = services.signature_rows(capa)
    assert [(row.purpose_label, row.changed) for row in rows] == [
        ("Effectiveness verification", False),
        ("Closure", False),
    ]
    sign_events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == AuditAction.SIGN).order_by(AuditEvent.id)
    ).all()
    purposes = [event.changes_dict["purpose"] for event in sign_events]
    assert [new for _, new in purposes] == [
        "capa_effectiveness",
        "capa_closure",
    ]


def test_an_edit_after_signing_shows_as_changed_after_signature(session, lead):
    capa = advance(plan(lead), CapaStatus.EFFECTIVE, lead)
    assert [row.changed for row in services.signature_rows(capa)] == [False]
    capa.description = "Edited after the signature"
    session.flush()
    assert [row.changed for row in services.signature_rows(capa)] == [True]


def test_a_contributor_owner_starts_and_implements_but_cannot_verify_or_sign(session, lead):
    owner = users.create_user("contributor")
    capa = plan(owner)
    services.transition_capa(capa, "start", owner)
    services.transition_capa(capa, "implement", owner)
    assert capa.status == CapaStatus.IMPLEMENTED
    check = capa_effectiveness.plan_effectiveness_check(
        capa,
        criterion="No duplicates",
        method="manual_review",
        window_days=None,
        due_date=services.today_utc(),
        user=owner,
    )
    with pytest.raises(services.NotAllowed):
        services.transition_capa(capa, "verify", owner)
    with pytest.raises(services.NotAllowed):
        capa_effectiveness.record_check_result(
            check, result="passed", evidence="I say so", user=owner
        )
    services.transition_capa(capa, "verify", lead)
    capa_effectiveness.record_check_result(check, result="passed", evidence="ok", user=lead)
    with pytest.raises(TransitionRefused, match="Your role may not"):
        services.verify_effectiveness(capa, owner, TEST_PASSWORD, "verified")
    assert capa.status == CapaStatus.VERIFYING
    assert signature_count() == 0


def test_another_contributor_cannot_touch_someone_elses_capa(session, lead):
    owner = users.create_user("contributor")
    stranger = users.create_user("contributor")
    capa = plan(owner)
    with pytest.raises(services.NotAllowed):
        services.transition_capa(capa, "start", stranger)
    with pytest.raises(services.NotAllowed):
        capa_training.assign_training(
            capa, staff_id=stranger.id, topic="x", due_date=services.today_utc(), user=stranger
        )
    with pytest.raises(services.NotAllowed):
        capa_effectiveness.plan_effectiveness_check(
            capa,
            criterion="x",
            method="manual_review",
            window_days=None,
            due_date=services.today_utc(),
            user=stranger,
        )
    assert capa.status == CapaStatus.PLANNED


def test_an_auditor_changes_nothing(session, lead):
    auditor = users.create_user("auditor")
    capa = advance(plan(lead), CapaStatus.VERIFYING, lead)
    with pytest.raises(services.NotAllowed):
        services.transition_capa(capa, "mark_ineffective", auditor)
    with pytest.raises(services.NotAllowed):
        capa_effectiveness.record_check_result(
            pending_check(capa, lead), result="passed", evidence="x", user=auditor
        )


def test_training_is_completed_by_the_staff_member_or_a_quality_lead_once(session, lead):
    staff = users.create_user("contributor")
    colleague = users.create_user("contributor")
    capa = plan(lead, recovery_dimension="employee")
    training = capa_training.assign_training(
        capa, staff_id=staff.id, topic="Refunds", due_date=services.today_utc(), user=lead
    )
    with pytest.raises(services.NotAllowed):
        capa_training.complete_training(training, colleague)
    other = capa_training.assign_training(
        capa, staff_id=staff.id, topic="Chargebacks", due_date=services.today_utc(), user=lead
    )
    capa_training.complete_training(other, lead)
    capa_training.complete_training(training, staff)
    with pytest.raises(ServiceError, match="already completed"):
        capa_training.complete_training(training, staff)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"staff_id": None}, "staff_id"),
        ({"topic": " "}, "topic"),
        ({"due_date": None}, "due_date"),
        ({"due_date": services.today_utc() - timedelta(days=1)}, "due_date"),
    ],
)
def test_bad_training_assignments_name_the_field(session, lead, changes, field):
    staff = users.create_user("contributor")
    capa = plan(lead, recovery_dimension="employee")
    values = {"staff_id": staff.id, "topic": "Refunds", "due_date": services.today_utc()}
    values.update(changes)
    with pytest.raises(ServiceError) as refused:
        capa_training.assign_training(capa, user=lead, **values)
    assert refused.value.field == field


def test_an_auditor_cannot_receive_training(session, lead):
    auditor = users.create_user("auditor")
    capa = plan(lead)
    with pytest.raises(ServiceError) as refused:
        capa_training.assign_training(
            capa, staff_id=auditor.id, topic="x", due_date=services.today_utc(), user=lead
        )
    assert refused.value.field == "staff_id"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"method": "astrology"}, "method"),
        ({"method": "no_recurrence", "window_days": None}, "window_days"),
        ({"method": "no_recurrence", "window_days": 0}, "window_days"),
        ({"criterion": ""}, "criterion"),
        ({"due_date": None}, "due_date"),
    ],
)
def test_bad_check_plans_name_the_field(session, lead, changes, field):
    capa = plan(lead)
    values = {
        "criterion": "No duplicates",
        "method": "manual_review",
        "window_days": None,
        "due_date": services.today_utc(),
    }
    values.update(changes)
    with pytest.raises(ServiceError) as refused:
        capa_effectiveness.plan_effectiveness_check(capa, user=lead, **values)
    assert refused.value.field == field


def test_an_automatic_check_gets_a_default_criterion_and_a_manual_one_no_window(session, lead):
    capa = plan(lead)
    automatic = capa_effectiveness.plan_effectiveness_check(
        capa,
        criterion="",
        method="no_recurrence",
        window_days=30,
        due_date=services.today_utc(),
        user=lead,
    )
    assert "for 30 days" in automatic.criterion
    manual = capa_effectiveness.plan_effectiveness_check(
        capa,
        criterion="Review the refund log",
        method="manual_review",
        window_days=30,
        due_date=services.today_utc(),
        user=lead,
    )
    assert manual.window_days is None


def test_check_results_need_evidence_an_implemented_capa_and_are_recorded_once(session, lead):
    capa = plan(lead)
    check = pending_check(capa, lead)
    with pytest.raises(ServiceError, match="once the CAPA is implemented"):
        capa_effectiveness.record_check_result(check, result="passed", evidence="ok", user=lead)
    advance(capa, CapaStatus.IMPLEMENTED, lead)
    with pytest.raises(ServiceError) as refused:
        capa_effectiveness.record_check_result(check, result="passed", evidence="  ", user=lead)
    assert refused.value.field == "evidence"
    with pytest.raises(ServiceError) as refused:
        capa_effectiveness.record_check_result(check, result="pending", evidence="ok", user=lead)
    assert refused.value.field == "result"
    capa_effectiveness.record_check_result(check, result="passed", evidence="ok", user=lead)
    with pytest.raises(ServiceError, match="already has its result"):
        capa_effectiveness.record_check_result(check, result="failed", evidence="ok", user=lead)


def test_closing_before_effective_is_refused_before_the_password_is_checked(session, lead):
    capa = advance(plan(lead), CapaStatus.VERIFYING, lead)
    capa_effectiveness.record_check_result(
        pending_check(capa, lead), result="passed", evidence="ok", user=lead
    )
    before = db.session.scalar(select(func.count()).select_from(LoginAttempt))
    with pytest.raises(ServiceError):
        services.close_capa(capa, lead, TEST_PASSWORD, "approved")
    # Refused before the password was even checked: the CAPA is not effective yet.
    assert db.session.scalar(select(func.count()).select_from(LoginAttempt)) == before
    assert session.get(Capa, capa.id).status == CapaStatus.VERIFYING
