"""The automatic no-recurrence check: evaluation without side effects, and applying it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.capa import effectiveness as capa_effectiveness
from app.capa import services
from app.capa.models import Capa, CapaStatus, CheckResult, EffectivenessCheck
from app.core.db import utcnow
from app.core.errors import ServiceError
from tests import factories as users
from tests.capa.factories import (
    advance,
    make_category,
    make_complaint,
    make_nonconformity,
    make_process,
    plan,
)


@pytest.fixture()
def setting(session):
    """A CAPA implemented 40 days ago for a billing/double-charge nonconformity, with an automatic
    30-day check (so its window ended 10 days ago), now under verification."""
    lead = users.create_user("quality_lead")
    billing, shipping = make_process("Billing"), make_process("Shipping")
    double_charge, late = make_category("Double charge"), make_category("Late delivery")
    implemented_at = utcnow() - timedelta(days=40)
    nc = make_nonconformity(
        process=billing, category=double_charge, detected_at=implemented_at - timedelta(days=5)
    )
    capa = plan(lead, nonconformity_ids=[nc.id])
    check = capa_effectiveness.plan_effectiveness_check(
        capa,
        criterion="",
        method="no_recurrence",
        window_days=30,
        due_date=services.today_utc(),
        user=lead,
    )
    advance(capa, CapaStatus.VERIFYING, lead)
    capa.implemented_at = implemented_at
    session.flush()
    return {
        "lead": lead,
        "capa": capa,
        "check": check,
        "nc": nc,
        "billing": billing,
        "shipping": shipping,
        "double_charge": double_charge,
        "late": late,
        "implemented_at": implemented_at,
    }


def test_no_new_records_passes(setting):
    check: EffectivenessCheck = setting["check"]
    evaluation = capa_effectiveness.evaluate_no_recurrence(check)
    assert evaluation.passed and evaluation.complete and evaluation.count == 0
    assert evaluation.window_start == setting["implemented_at"]
    assert evaluation.window_end == setting["implemented_at"] + timedelta(days=30)
    assert check.result == CheckResult.PENDING  # evaluating changes nothing

    outcome = capa_effectiveness.run_automatic_check(check, setting["lead"])
    assert outcome.decided and not outcome.follow_up_required
    assert check.result == CheckResult.PASSED
    assert "0 new records" in check.evidence
    assert check.checked_by_id == setting["lead"].id and check.checked_at is not None


def test_a_new_complaint_with_the_same_process_and_category_fails_it(setting, session):
    check: EffectivenessCheck = setting["check"]
    recurrence = make_complaint(
        process=setting["billing"],
        category=setting["double_charge"],
        received_at=setting["implemented_at"] + timedelta(days=12),
    )
    evaluation = capa_effectiveness.evaluate_no_recurrence(check)
    assert not evaluation.passed
    assert evaluation.count == 1
    assert evaluation.references == [recurrence.reference]
    assert check.result == CheckResult.PENDING

    outcome = capa_effectiveness.run_automatic_check(check, setting["lead"])
    assert check.result == CheckResult.FAILED
    assert recurrence.reference in check.evidence
    capa: Capa = setting["capa"]
    assert capa.status == CapaStatus.INEFFECTIVE
    assert outcome.follow_up_required and "follow-up action is required" in outcome.message


def test_a_new_nonconformity_counts_too(setting):
    recurrence = make_nonconformity(
        process=setting["billing"],
        category=setting["double_charge"],
        detected_at=setting["implemented_at"] + timedelta(days=3),
    )
    evaluation = capa_effectiveness.evaluate_no_recurrence(setting["check"])
    assert evaluation.count == 1 and evaluation.references == [recurrence.reference]


def test_records_of_another_category_or_process_or_outside_the_window_do_not_count(setting):
    start = setting["implemented_at"]
    make_complaint(
        process=setting["billing"], category=setting["late"], received_at=start + timedelta(1)
    )
    make_complaint(
        process=setting["shipping"],
        category=setting["double_charge"],
        received_at=start + timedelta(days=2),
    )
    make_complaint(
        process=setting["billing"],
        category=setting["double_charge"],
        received_at=start - timedelta(days=1),
    )
    make_complaint(
        process=setting["billing"],
        category=setting["double_charge"],
        received_at=start + timedelta(days=31),
    )
    evaluation = capa_effectiveness.evaluate_no_recurrence(setting["check"])
    assert evaluation.passed and evaluation.count == 0


def test_while_the_window_runs_no_recurrence_so_far_keeps_the_check_pending(setting, session):
    capa: Capa = setting["capa"]
    capa.implemented_at = utcnow() - timedelta(days=5)
    session.flush()
    check = setting["check"]
    evaluation = capa_effectiveness.evaluate_no_recurrence(check)
    assert evaluation.passed and not evaluation.complete
    outcome = capa_effectiveness.run_automatic_check(check, setting["lead"])
    assert not outcome.decided and "stays pending" in outcome.message
    assert check.result == CheckResult.PENDING
    # A recurrence decides it at once, window or not.
    make_complaint(
        process=setting["billing"],
        category=setting["double_charge"],
        received_at=utcnow() - timedelta(days=1),
    )
    capa_effectiveness.run_automatic_check(check, setting["lead"])
    assert check.result == CheckResult.FAILED


def test_the_evaluation_as_of_a_given_day(setting):
    start = setting["implemented_at"]
    make_complaint(
        process=setting["billing"],
        category=setting["double_charge"],
        received_at=start + timedelta(days=20),
    )
    earlier = capa_effectiveness.evaluate_no_recurrence(
        setting["check"], today=(start + timedelta(days=10)).date()
    )
    assert earlier.passed and not earlier.complete
    assert not capa_effectiveness.evaluate_no_recurrence(setting["check"]).passed


def test_the_scheduler_records_a_failure_but_leaves_the_transition_to_a_person(setting):
    make_complaint(
        process=setting["billing"],
        category=setting["double_charge"],
        received_at=setting["implemented_at"] + timedelta(days=1),
    )
    outcome = capa_effectiveness.run_automatic_check(setting["check"], None)
    assert setting["check"].result == CheckResult.FAILED
    assert setting["check"].checked_by_id is None
    assert setting["capa"].status == CapaStatus.VERIFYING
    assert outcome.follow_up_required


def test_only_automatic_checks_of_implemented_capas_with_a_fingerprint_are_evaluated(session):
    lead = users.create_user("quality_lead")
    capa = plan(lead, nonconformity_ids=[make_nonconformity().id])
    manual = capa_effectiveness.plan_effectiveness_check(
        capa,
        criterion="Review",
        method="manual_review",
        window_days=None,
        due_date=services.today_utc(),
        user=lead,
    )
    automatic = capa_effectiveness.plan_effectiveness_check(
        capa,
        criterion="",
        method="no_recurrence",
        window_days=30,
        due_date=services.today_utc(),
        user=lead,
    )
    with pytest.raises(ServiceError, match="Only automatic"):
        capa_effectiveness.evaluate_no_recurrence(manual)
    with pytest.raises(ServiceError, match="not implemented yet"):
        capa_effectiveness.evaluate_no_recurrence(automatic)
    advance(capa, CapaStatus.IMPLEMENTED, lead)
    with pytest.raises(ServiceError, match="no process and category"):
        capa_effectiveness.evaluate_no_recurrence(automatic)
    contributor = users.create_user("contributor")
    with pytest.raises(services.NotAllowed):
        capa_effectiveness.run_automatic_check(automatic, contributor)
