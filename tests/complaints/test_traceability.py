"""A complaint's three recoveries: what is done, what is under way, what is missing."""

from __future__ import annotations

from datetime import timedelta

from app.capa import effectiveness as capa_effectiveness
from app.capa import services as capa_services
from app.capa import training as capa_training
from app.complaints import services
from app.complaints.traceability import complaint_traceability
from app.core.db import utcnow
from app.nonconformities import services as nc_services
from app.rca import services as rca_services
from tests.complaints.factories import new_complaint, walk
from tests.conftest import TEST_PASSWORD
from tests.organisation.pages import page_text


def raise_nc(lead, complaint):
    return nc_services.raise_nonconformity(
        title="Refund run twice",
        source="customer_complaint",
        detected_at=utcnow(),
        severity=6,
        occurrence=4,
        detection=3,
        owner_id=lead.id,
        complaint_ids=[complaint.id],
        user=lead,
    )


def plan(lead, nc, *, dimension="process", root_cause_ids=()):
    return capa_services.plan_capa(
        kind="corrective",
        recovery_dimension=dimension,
        title="Block a second refund run",
        owner_id=lead.id,
        due_date=capa_services.today_utc() + timedelta(days=20),
        principle_ids=[1, 6],
        nonconformity_ids=[nc.id],
        root_cause_ids=root_cause_ids,
        user=lead,
    )


def test_a_new_complaint_misses_all_three_recoveries(session, make_user) -> None:
    lead = make_user("quality_lead")
    complaint = new_complaint(session.merge(lead))
    trace = complaint_traceability(complaint)
    assert trace.missing == ["customer", "process", "employee"]
    assert "not been made whole" in trace.customer.summary
    assert "cause is not being fixed" in trace.process.summary


def test_each_recovery_moves_from_missing_to_done(session, make_user) -> None:
    lead = session.merge(make_user("quality_lead"))
    staff = session.merge(make_user("contributor"))
    complaint = new_complaint(lead)
    walk(complaint, lead, "acknowledge", "investigate", "resolve")
    services.add_recovery_action(complaint, user=lead, kind="apology", description="Sorry")
    services.add_recovery_action(
        complaint, user=lead, kind="refund", amount="25.00", currency="EUR"
    )
    trace = complaint_traceability(complaint)
    assert trace.customer.state == "in_progress"
    assert trace.customer.summary == "Done: apology, refund. Satisfaction not asked yet."
    services.record_satisfaction(complaint, user=lead, score=5)
    assert complaint_traceability(complaint).customer.state == "done"

    nc = raise_nc(lead, complaint)
    trace = complaint_traceability(complaint)
    assert trace.process.state == "in_progress"
    assert "no CAPA planned" in trace.process.summary

    analysis = rca_services.start_analysis(nc, "five_whys", "Why twice?", lead)
    root_cause = rca_services.add_root_cause(analysis, "No lock on the refund run", "method")
    capa = plan(lead, nc, dimension="employee", root_cause_ids=[root_cause.id])
    training = capa_training.assign_training(
        capa,
        staff_id=staff.id,
        topic="Refund run checklist",
        due_date=capa_services.today_utc() + timedelta(days=5),
        user=lead,
    )
    trace = complaint_traceability(complaint)
    [nc_trace] = trace.nonconformities
    assert [cause.statement for cause in nc_trace.root_causes] == ["No lock on the refund run"]
    [capa_trace] = nc_trace.capas
    assert [p.id for p in capa_trace.capa.principles] == [1, 6]
    assert capa_trace.effectiveness == "No effectiveness check planned"
    assert trace.process.summary == "0 of 1 CAPA verified effective so far."
    assert trace.employee.summary == "0 of 1 training completed."
    assert trace.missing == []

    capa_training.complete_training(training, staff)
    check = capa_effectiveness.plan_effectiveness_check(
        capa,
        criterion="No double refund in 30 days",
        method="manual_review",
        window_days=None,
        due_date=capa_services.today_utc() + timedelta(days=30),
        user=lead,
    )
    capa_services.transition_capa(capa, "start", lead)
    capa_services.transition_capa(capa, "implement", lead)
    capa_services.transition_capa(capa, "verify", lead)
    capa_effectiveness.record_check_result(check, result="passed", evidence="None seen", user=lead)
    signer = session.merge(make_user("quality_lead"))  # the owner may not sign its own CAPA
    capa_services.verify_effectiveness(capa, signer, TEST_PASSWORD, "verified")
    capa_services.close_capa(capa, signer, TEST_PASSWORD, "approved")
    trace = complaint_traceability(complaint)
    assert trace.process.state == "done" and trace.employee.state == "done"
    assert trace.nonconformities[0].capas[0].effectiveness == "Verified effective"


def test_the_complaint_page_shows_the_chain_and_offers_to_raise_a_nonconformity(
    client, login, committed
) -> None:
    lead = login("quality_lead")
    complaint = committed(new_complaint, lead)
    page = page_text(client.get(f"/complaints/{complaint.reference}"))
    assert f'href="/nonconformities/new?complaint={complaint.reference}"' in page

    def link_work(lead_id: int) -> tuple[str, str]:
        from app.accounts.models import User
        from app.complaints.models import Complaint
        from app.extensions import db

        me = db.session.get(User, lead_id)
        nc = raise_nc(me, db.session.get(Complaint, complaint.id))
        analysis = rca_services.start_analysis(nc, "five_whys", "Why twice?", me)
        rca_services.add_root_cause(analysis, "No lock on the refund run", "method")
        capa = plan(me, nc)
        return nc.reference, capa.reference

    nc_reference, capa_reference = committed(link_work, lead.id)
    page = page_text(client.get(f"/complaints/{complaint.reference}"))
    assert nc_reference in page and capa_reference in page
    assert "No lock on the refund run" in page
    assert "Customer-focused" in page and "Continual improvement" in page
    assert "Still missing: Customer, Employee recovery." in page
    assert "0 of 1 CAPA verified effective so far." in page


def test_the_page_loads_the_chain_in_a_fixed_number_of_queries(
    client, login, committed, count_queries
) -> None:
    lead = login("quality_lead")
    complaint = committed(new_complaint, lead)

    def add_nc(lead_id: int) -> None:
        from app.accounts.models import User
        from app.complaints.models import Complaint
        from app.extensions import db

        me = db.session.get(User, lead_id)
        plan(me, raise_nc(me, db.session.get(Complaint, complaint.id)))

    def open_page() -> None:
        assert client.get(f"/complaints/{complaint.reference}").status_code == 200

    committed(add_nc, lead.id)
    with_one = count_queries(open_page)
    for _ in range(3):
        committed(add_nc, lead.id)
    assert count_queries(open_page) == with_one
