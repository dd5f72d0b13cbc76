"""Record control: closed records are read-only until reopened with a reason, and a reopen of a
signed record voids its signatures, visibly. One block per record type, at service level, then
the API and the pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.capa import effectiveness as capa_effectiveness
from app.capa import services as capa_services
from app.capa import training as capa_training
from app.capa.models import CapaStatus
from app.complaints import services as complaint_services
from app.complaints.models import ComplaintStatus
from app.core.audit import AuditAction, AuditEvent
from app.core.workflow import RecordLocked, TransitionRefused
from app.extensions import db
from app.nonconformities import services as nc_services
from app.nonconformities.models import NonconformityStatus
from app.rca import services as rca_services
from tests import factories as users
from tests.capa.factories import advance, pending_check, plan
from tests.conftest import TEST_PASSWORD
from tests.nonconformities.factories import make_capa, raise_nc


@pytest.fixture()
def lead(session):
    return users.create_user("quality_lead", full_name="Quinn Lead")


def closed_complaint(lead):
    complaint = complaint_services.record_complaint(
        user=lead, title="Charged twice", channel="email", severity="medium"
    )
    for name in ("resolve", "close"):
        complaint_services.transition_complaint(complaint, name, user=lead)
    assert complaint.status == ComplaintStatus.CLOSED
    return complaint


# --- complaints --------------------------------------------------------------------------------


def test_a_closed_complaint_takes_no_recovery_action_score_nonconformity_or_edit(session, lead):
    complaint = closed_complaint(lead)
    refusals = {
        "recovery": lambda: complaint_services.add_recovery_action(
            complaint, user=lead, kind="apology", description="Sorry"
        ),
        "satisfaction": lambda: complaint_services.record_satisfaction(
            complaint, user=lead, score=4
        ),
        "edit": lambda: complaint_services.update_complaint(
            complaint,
            user=lead,
            title="Retitled",
            description="",
            product_or_service="",
            customer_id=None,
            process_id=None,
            category_id=None,
            severity="medium",
            channel="email",
            expected_version=complaint.version,
        ),
        "escalation": lambda: complaint_services.escalate_complaint(
            complaint, 2, user=lead, reason="Angry"
        ),
    }
    for what, attempt in refusals.items():
        with pytest.raises(RecordLocked) as refused:
            attempt()
        assert refused.value.message.startswith(
            f"{complaint.reference} is closed and read-only; reopen it (with a reason) before"
        ), what
    with pytest.raises(Exception, match="closed and read-only") as raised:
        raise_nc(user=lead, complaint_ids=[complaint.id])
    assert raised.value.field == "complaints"
    assert complaint.recovery_actions == [] and complaint.csat_score is None
    # The retention follow-up is due after the resolution, so a closed complaint still takes it.
    complaint_services.record_retention(complaint, user=lead, status="unknown", follow_up_days=30)


def test_a_reopened_complaint_takes_changes_again(session, lead):
    complaint = closed_complaint(lead)
    with pytest.raises(TransitionRefused, match="needs a reason"):
        complaint_services.transition_complaint(complaint, "reopen", user=lead, reason="")
    complaint_services.transition_complaint(complaint, "reopen", user=lead, reason="Not fixed")
    complaint_services.add_recovery_action(
        complaint, user=lead, kind="apology", description="Sorry"
    )
    assert len(complaint.recovery_actions) == 1
    event = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.record_type == "complaint", AuditEvent.record_id == str(complaint.id))
        .where(AuditEvent.action == AuditAction.TRANSITION)
        .order_by(AuditEvent.id.desc())
    ).first()
    assert event.reason == "Not fixed"


# --- nonconformities and their analyses --------------------------------------------------------


def closed_nc(lead, signer):
    nc = raise_nc(containment_action="Hold the billing run")
    for name in ("contain", "investigate"):
        nc_services.transition_nonconformity(nc, name, lead)
    capa = make_capa(nc)
    nc_services.transition_nonconformity(nc, "plan_action", lead)
    capa.status = CapaStatus.IMPLEMENTED
    nc_services.transition_nonconformity(nc, "verify", lead)
    capa.status = CapaStatus.CLOSED
    signature = nc_services.close_nonconformity(nc, signer, TEST_PASSWORD, "approved")
    return nc, signature


def test_a_closed_nonconformity_refuses_edits_links_and_analysis_work(session, lead):
    nc, _ = closed_nc(lead, users.other_lead(lead))
    analysis = None
    complaint = complaint_services.record_complaint(
        user=lead, title="Another", channel="phone", severity="low"
    )
    with pytest.raises(RecordLocked, match="is closed and read-only; reopen it"):
        nc_services.link_complaints(nc, [complaint.id], user=lead)
    with pytest.raises(RecordLocked):
        nc_services.unlink_complaint(nc, complaint.id, user=lead)
    with pytest.raises(Exception, match="unless it is reopened"):
        analysis = rca_services.start_analysis(nc, "five_whys", "Why?", lead)
    assert analysis is None and nc.complaints == []


def test_reopening_a_signed_nonconformity_voids_its_signature(session, lead):
    nc, signature = closed_nc(lead, users.other_lead(lead))
    nc_services.transition_nonconformity(nc, "reopen", lead, "Recurred in March")
    assert nc.status == NonconformityStatus.UNDER_INVESTIGATION
    assert signature.is_void and signature.voided_by_name == "Quinn Lead"
    assert "Void — superseded by reopen on" in signature.void_notice()
    assert signature.void_notice().endswith("by Quinn Lead: Recurred in March")
    rca_services.start_analysis(nc, "five_whys", "Why again?", lead)


def test_a_cancelled_nonconformity_is_read_only_until_reopened(session, lead):
    nc = raise_nc()
    nc_services.cancel_nonconformity(nc, lead, "Raised twice")
    complaint = complaint_services.record_complaint(
        user=lead, title="Another", channel="phone", severity="low"
    )
    with pytest.raises(RecordLocked, match="is cancelled and read-only"):
        nc_services.link_complaints(nc, [complaint.id], user=lead)
    nc_services.transition_nonconformity(nc, "reopen", lead, "Not a duplicate after all")
    nc_services.link_complaints(nc, [complaint.id], user=lead)
    assert nc.complaints == [complaint]


# --- CAPA, its checks and trainings ------------------------------------------------------------


def test_a_closed_capa_its_checks_and_trainings_are_read_only(session, lead):
    staff = users.create_user("contributor")
    capa = advance(plan(lead), CapaStatus.EFFECTIVE, lead)
    # Process recovery: a briefing assigned late need not be done before the closure.
    training = capa_training.assign_training(
        capa,
        staff_id=staff.id,
        topic="Duplicate refunds",
        due_date=capa_services.today_utc() + timedelta(days=5),
        user=lead,
    )
    advance(capa, CapaStatus.CLOSED, lead)
    for attempt in (
        lambda: capa_training.complete_training(training, lead),
        lambda: capa_training.assign_training(
            capa,
            staff_id=staff.id,
            topic="More",
            due_date=capa_services.today_utc() + timedelta(days=5),
            user=lead,
        ),
        lambda: capa_effectiveness.plan_effectiveness_check(
            capa,
            criterion="Again",
            method="manual_review",
            window_days=None,
            due_date=capa_services.today_utc() + timedelta(days=5),
            user=lead,
        ),
        lambda: capa_services.link_nonconformities(capa, [raise_nc().id], lead),
    ):
        with pytest.raises(RecordLocked, match=f"{capa.reference} is closed and read-only"):
            attempt()
    assert training.completed_at is None


def test_reopening_a_closed_capa_voids_both_signatures(session, lead):
    capa = advance(plan(lead), CapaStatus.CLOSED, lead)
    rows = capa_services.signature_rows(capa)
    assert [row.signature.is_void for row in rows] == [False, False]
    with pytest.raises(TransitionRefused, match="needs a reason"):
        capa_services.transition_capa(capa, "reopen", lead, "")
    capa_services.transition_capa(capa, "reopen", lead, "The failure recurred")
    assert (capa.status, capa.closed_at) == (CapaStatus.IN_PROGRESS, None)
    rows = capa_services.signature_rows(capa)
    assert [row.signature.is_void for row in rows] == [True, True]
    assert [row.changed for row in rows] == [False, False]  # void, not "changed"
    voids = session.scalars(
        select(AuditEvent).where(
            AuditEvent.record_type == "electronic_signature",
            AuditEvent.record_id.in_([str(row.signature.id) for row in rows]),
        )
    ).all()
    assert [event.reason for event in voids] == ["The failure recurred"] * 2
    pending_check(capa, lead)  # checks can be planned again


# --- the pages ---------------------------------------------------------------------------------


def test_a_closed_complaint_page_offers_only_the_reopen(client, login, committed) -> None:
    lead = login("quality_lead")
    reference = committed(lambda: closed_complaint(db.session.merge(lead)).reference)
    page = client.get(f"/complaints/{reference}").get_data(as_text=True)
    assert 'data-testid="read-only"' in page
    for hidden in (
        'data-testid="raise-nonconformity"',
        'data-testid="edit"',
        "Record recovery action",
        "Record satisfaction",
    ):
        assert hidden not in page, hidden
    assert "Reopen" in page
    response = client.get(f"/nonconformities/new?complaint={reference}", follow_redirects=True)
    assert "is closed and read-only; reopen it (with a reason) before you raise" in (
        response.get_data(as_text=True)
    )
    response = client.post(
        f"/complaints/{reference}/recovery-actions",
        data={"recovery-kind": "apology", "recovery-description": "Sorry"},
    )
    assert response.status_code == 422


def test_a_closed_capa_page_offers_a_reopen_and_shows_void_signatures(
    client, login, committed
) -> None:
    lead = login("quality_lead")

    def build() -> str:
        return advance(plan(db.session.merge(lead)), CapaStatus.CLOSED, db.session.merge(lead))

    reference = committed(lambda: build().reference)
    page = client.get(f"/capa/{reference}").get_data(as_text=True)
    assert 'data-testid="read-only"' in page and 'value="reopen"' in page
    assert f"/capa/{reference}/edit" not in page
    response = client.post(
        f"/capa/{reference}/transition", data={"transition": "reopen", "reason": "Recurred"}
    )
    assert response.status_code == 302
    page = client.get(f"/capa/{reference}").get_data(as_text=True)
    assert page.count('data-testid="void-signature"') == 2
    assert "Void — superseded by reopen on" in page and "Recurred" in page
