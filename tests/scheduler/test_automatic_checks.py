"""The automatic-check job: due no-recurrence checks pass (awaiting sign-off) or fail (the CAPA
becomes ineffective, its owner is told); undecided ones stay pending."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.capa import effectiveness as capa_effectiveness
from app.capa import services
from app.capa.models import CapaStatus, CheckResult
from app.core.audit import AuditEvent
from app.core.db import utcnow
from app.extensions import db
from app.notifications.models import Notification
from app.scheduler.runner import run_job
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
def implemented(session):
    """A CAPA implemented 40 days ago (owner: a contributor) with a 30-day automatic check due
    yesterday; its nonconformity is billing / double charge."""
    lead = users.create_user("quality_lead")
    owner = users.create_user("contributor")
    billing, double_charge = make_process("Billing"), make_category("Double charge")
    implemented_at = utcnow() - timedelta(days=40)
    nc = make_nonconformity(
        process=billing, category=double_charge, detected_at=implemented_at - timedelta(days=5)
    )
    capa = plan(owner, nonconformity_ids=[nc.id])
    check = capa_effectiveness.plan_effectiveness_check(
        capa,
        criterion="",
        method="no_recurrence",
        window_days=30,
        due_date=services.today_utc() + timedelta(days=1),
        user=lead,
    )
    advance(capa, CapaStatus.IMPLEMENTED, lead)
    capa.implemented_at = implemented_at
    check.due_date = services.today_utc() - timedelta(days=1)
    db.session.commit()
    return {
        "lead": lead,
        "owner": owner,
        "capa": capa,
        "check": check,
        "pair": (billing, double_charge),
    }


def test_a_passing_check_awaits_the_quality_leads_sign_off(implemented):
    run = run_job("automatic-effectiveness-checks", utcnow())
    assert run.counts == {**run.counts, "evaluated": 1, "passed": 1, "failed": 0}
    capa, check = implemented["capa"], implemented["check"]
    assert check.result == CheckResult.PASSED
    assert "0 new records" in check.evidence
    assert capa.status == CapaStatus.VERIFYING  # ready for the effectiveness signature
    # Separation of duties: the lead who implemented it may not sign; another lead may.
    assert services.signing_refusal(capa, implemented["lead"], services.EFFECTIVENESS_PURPOSE) == (
        "A quality lead other than the CAPA owner (Test Contributor) or its implementer "
        "(Test Quality Lead) must sign."
    )
    signer = users.other_lead(implemented["lead"])
    assert services.signing_refusal(capa, signer, services.EFFECTIVENESS_PURPOSE) is None
    note = db.session.scalar(
        select(Notification).where(Notification.user_id == implemented["lead"].id)
    )
    assert note.subject == f"{capa.reference}: effectiveness check passed, awaiting sign-off"
    actors = set(
        db.session.scalars(
            select(AuditEvent.actor).where(
                AuditEvent.record_type == "capa", AuditEvent.record_id == str(capa.id)
            )
        )
    )
    assert "system:automatic-effectiveness-checks" in actors


def test_a_failing_check_makes_the_capa_ineffective_and_tells_its_owner(implemented):
    billing, double_charge = implemented["pair"]
    make_complaint(
        process=billing, category=double_charge, received_at=utcnow() - timedelta(days=20)
    )
    db.session.commit()
    run = run_job("automatic-effectiveness-checks", utcnow())
    assert run.counts == {**run.counts, "evaluated": 1, "passed": 0, "failed": 1}
    capa = implemented["capa"]
    assert implemented["check"].result == CheckResult.FAILED
    assert capa.status == CapaStatus.INEFFECTIVE
    note = db.session.scalar(
        select(Notification).where(Notification.user_id == implemented["owner"].id)
    )
    assert note.subject == f"{capa.reference} is ineffective: a follow-up action is required"
    assert note.link == f"/capa/{capa.reference}"


def test_a_check_whose_window_still_runs_stays_pending(implemented):
    implemented["capa"].implemented_at = utcnow() - timedelta(days=10)
    db.session.commit()
    run = run_job("automatic-effectiveness-checks", utcnow())
    assert run.counts == {**run.counts, "evaluated": 0, "undecided": 1}
    assert implemented["check"].result == CheckResult.PENDING
    assert implemented["capa"].status == CapaStatus.IMPLEMENTED


def test_a_check_not_yet_due_is_left_alone(implemented):
    implemented["check"].due_date = services.today_utc() + timedelta(days=1)
    db.session.commit()
    run = run_job("automatic-effectiveness-checks", utcnow())
    assert run.counts == {**run.counts, "evaluated": 0, "undecided": 0}
    assert implemented["check"].result == CheckResult.PENDING
