"""The audit pages as users see them: the programme table, planning with its refusals, the
checklist, findings with their nonconformity → CAPA → effectiveness chain, and who may act."""

from __future__ import annotations

import re
from datetime import date, timedelta

from app.audits import services
from app.audits.models import Audit
from app.capa import effectiveness as capa_effectiveness
from app.capa import services as capa_services
from app.core.db import utcnow
from app.extensions import db
from app.nonconformities import services as nc_services
from tests.audits import factories as f


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def test_the_programme_shows_planned_done_overdue_unaudited_and_risky_processes(
    client, login, committed
) -> None:
    lead = login("quality_lead")
    year = utcnow().year
    today = utcnow().date()

    def build() -> dict[str, str]:
        lead_user = db.session.merge(lead)
        programme = services.create_programme(year, user=lead_user)
        billing = f.process("Billing")
        dispatch = f.process("Dispatch")
        f.process("Onboarding")
        done = f.audit_in_progress(
            lead_user, processes=[billing], start=date(year, 1, 5), end=date(year, 1, 6)
        )
        for question in done.questions:
            services.answer_question(question, "conforming", user=lead_user)
        services.transition_audit(done, "report", lead_user)
        services.set_conclusion(done, "Effective.", expected_version=done.version, user=lead_user)
        services.transition_audit(done, "close", lead_user)
        overdue = f.audit(processes=[dispatch], start=date(year, 1, 7), end=date(year, 1, 8))
        planned = f.audit(processes=[dispatch], start=date(year, 12, 1), end=date(year, 12, 2))
        # Dispatch fails often: six high-RPN nonconformities in the risk window.
        for number in range(6):
            nc_services.raise_nonconformity(
                title=f"Lost parcel {number}",
                source="process_monitoring",
                detected_at=utcnow() - timedelta(days=3),
                severity=8,
                occurrence=5,
                detection=5,
                process_id=dispatch.id,
            )
        assert programme.id
        return {"done": done.reference, "overdue": overdue.reference, "planned": planned.reference}

    refs = committed(build)
    response = client.get("/audits")
    assert response.status_code == 200
    page = _text(response)
    rows = {row.split("</th>")[0]: row for row in page.split('data-testid="process-row"')[1:]}
    billing = next(row for key, row in rows.items() if "Billing" in key)
    dispatch = next(row for key, row in rows.items() if "Dispatch" in key)
    onboarding = next(row for key, row in rows.items() if "Onboarding" in key)
    assert refs["done"] in billing and "Done" in billing
    if today > date(year, 1, 8):
        assert refs["overdue"] in dispatch and "Overdue" in dispatch
    assert refs["planned"] in dispatch
    assert "Risk: due every 6 months" in dispatch and "6 high-RPN NC" in dispatch
    assert "risk-flag" not in billing
    assert "Not audited within 12 months" in onboarding
    assert "Not audited within" not in billing
    not_audited = page.split('data-testid="not-audited-list"')[1].split("</ul>")[0]
    assert "Onboarding — last audited never" in not_audited
    assert "Dispatch" in not_audited and "shortened by risk" in not_audited
    assert client.get("/audits?year=1999").status_code == 404


def test_planning_refuses_dates_out_of_order_and_auditors_owning_the_process(
    client, login, committed
) -> None:
    lead = login("quality_lead")
    year = utcnow().year

    def build():
        services.create_programme(year)
        owner = f.user("contributor", "Olga Owner")
        billing = f.process("Billing", owner=owner)
        return owner.id, billing.id

    owner_id, billing_id = committed(build)
    form = {
        "title": "Billing audit",
        "planned_start": f"{year}-06-10",
        "planned_end": f"{year}-06-09",
        "lead_auditor_id": str(owner_id),
        "process_ids": [str(billing_id)],
    }
    response = client.post("/audits/new", data=form)
    assert response.status_code == 422
    assert "cannot be before the start" in _text(response)
    form["planned_end"] = f"{year}-06-11"
    response = client.post("/audits/new", data=form)
    assert response.status_code == 422
    assert "Olga Owner owns the process Billing" in _text(response)
    assert committed(lambda: db.session.query(Audit).count()) == 0
    form["independence_justification"] = "Only certified auditor for billing"
    response = client.post("/audits/new", data=form)
    assert response.status_code == 302
    page = _text(client.get(response.headers["Location"]))
    assert "Only certified auditor for billing" in page
    assert lead.full_name  # the lead planned it


def test_a_team_member_answers_the_checklist_and_an_auditor_role_lead_cannot(
    client, login, committed, make_user
) -> None:
    member = login("contributor", full_name="Tess Team")

    def build():
        lead_user = f.user()
        audit = f.audit_in_progress(lead_user, team=[db.session.merge(member)])
        named_auditor = f.user("auditor", "Ed External")
        other = f.audit_in_progress(lead_user, lead=named_auditor, title="External audit")
        return audit.reference, audit.questions[0].id, other.reference, other.questions[0].id

    reference, question_id, other_reference, other_question = committed(build)
    page = _text(client.get(f"/audits/{reference}"))
    assert 'data-testid="save-answer"' in page
    response = client.post(
        f"/audits/{reference}/questions/{question_id}",
        data={"answer": "nonconforming", "evidence": "", "version": "1"},
    )
    assert response.status_code == 422
    assert "Note the evidence for a nonconforming answer." in _text(response)
    response = client.post(
        f"/audits/{reference}/questions/{question_id}",
        data={"answer": "nonconforming", "evidence": "Unsigned invoices", "version": "1"},
    )
    assert response.status_code == 302
    page = _text(client.get(f"/audits/{reference}"))
    assert "Nonconforming</strong> — Unsigned invoices" in page
    # A stale save (version 1 again) is refused and says so.
    response = client.post(
        f"/audits/{reference}/questions/{question_id}",
        data={"answer": "conforming", "evidence": "", "version": "1"},
    )
    assert response.status_code == 422 and "changed by someone else" in _text(response)
    # Not on the other audit's team.
    response = client.post(
        f"/audits/{other_reference}/questions/{other_question}",
        data={"answer": "conforming", "version": "1"},
    )
    assert response.status_code == 403
    assert client.post(f"/audits/{reference}/questions/999999", data={}).status_code == 404
    assert client.get("/audits/AUD-1999-000001").status_code == 404


def test_an_auditor_role_lead_auditor_reads_but_records_nothing(client, login, committed) -> None:
    auditor = login("auditor", full_name="Ed External")

    def build():
        lead_user = f.user()
        audit = f.audit_in_progress(lead_user, lead=db.session.merge(auditor))
        return audit.reference, audit.questions[0].id

    reference, question_id = committed(build)
    page = _text(client.get(f"/audits/{reference}"))
    assert "Ed External" in page and 'data-testid="save-answer"' not in page
    response = client.post(
        f"/audits/{reference}/questions/{question_id}",
        data={"answer": "conforming", "version": "1"},
    )
    assert response.status_code == 403


def test_a_finding_raises_an_nc_whose_capa_and_effectiveness_show_on_the_audit(
    client, login, committed
) -> None:
    lead = login("quality_lead", full_name="Quinn Lead")

    def build():
        lead_user = db.session.merge(lead)
        audit = f.audit_in_progress(lead_user, processes=[f.process("Billing")])
        services.record_finding(
            audit, kind="major", description="Credit notes unapproved", user=lead_user
        )
        return audit.reference

    reference = committed(build)
    page = _text(client.get(f"/audits/{reference}"))
    assert "Major nonconformity" in page and 'data-testid="raise-nc"' in page
    response = client.post(f"/audits/{reference}/findings/1/nonconformity")
    assert response.status_code == 302
    nc_page = _text(client.get(response.headers["Location"]))
    assert "Internal audit" in nc_page
    assert "raised from the finding" in nc_page and f"{reference}/F1" in nc_page
    response = client.post(f"/audits/{reference}/findings/1/nonconformity")
    assert response.status_code == 422 and "already raised" in _text(response)
    assert client.post(f"/audits/{reference}/findings/9/nonconformity").status_code == 404

    def plan_follow_up():
        audit = services.get_by_reference(reference)
        lead_user = db.session.merge(lead)
        nc = audit.findings[0].nonconformity
        capa = capa_services.plan_capa(
            kind="corrective",
            recovery_dimension="process",
            title="Approval step for credit notes",
            owner_id=lead_user.id,
            due_date=capa_services.today_utc() + timedelta(days=30),
            principle_ids=[3],
            nonconformity_ids=[nc.id],
            user=lead_user,
        )
        capa_effectiveness.plan_effectiveness_check(
            capa,
            criterion="No unapproved credit notes for 60 days",
            method="manual_review",
            window_days=None,
            due_date=capa_services.today_utc() + timedelta(days=90),
            user=lead_user,
        )
        return nc.reference, capa.reference

    nc_reference, capa_reference = committed(plan_follow_up)
    follow_up = _text(client.get(f"/audits/{reference}")).split('data-testid="follow-up"')[1]
    follow_up = follow_up.split("</li>")[0]
    assert nc_reference in follow_up and "(open)" in follow_up
    assert capa_reference in follow_up and "(planned)" in follow_up
    assert "effectiveness check" in follow_up and "pending" in follow_up


def test_closing_with_a_major_finding_without_nc_is_refused_on_the_page(
    client, login, committed
) -> None:
    lead = login("quality_lead")

    def build():
        lead_user = db.session.merge(lead)
        audit = f.audit_in_progress(lead_user)
        for question in audit.questions:
            services.answer_question(question, "conforming", user=lead_user)
        services.record_finding(audit, kind="major", description="No backups", user=lead_user)
        services.transition_audit(audit, "report", lead_user)
        services.set_conclusion(audit, "Not yet.", expected_version=audit.version, user=lead_user)
        return audit.reference, audit.version

    reference, version = committed(build)
    page = _text(client.get(f"/audits/{reference}"))
    assert "The audit cannot close while a major finding has no nonconformity" in page
    response = client.post(
        f"/audits/{reference}/transition", data={"transition": "close", "version": version}
    )
    assert response.status_code == 422
    assert f"{reference}/F1" in _text(response).split('data-testid="transition-error"')[1]
    response = client.post(
        f"/audits/{reference}/transition", data={"transition": "cancel", "version": version}
    )
    assert response.status_code == 422
    assert "A reason for cancelling is required." in _text(response)


def test_quality_leads_add_standards_clauses_and_checklist_templates(client, login) -> None:
    login("quality_lead")
    page = _text(client.get("/audits/library"))
    assert "ISO 9001:2015" in page and "9.2 Internal audit" in page
    response = client.post(
        "/audits/library/checklists",
        data={
            "name": "Billing checklist",
            "standard_id": "1",
            "questions": "8.5 Are invoices checked?\n11 Invented clause",
        },
    )
    assert response.status_code == 422
    assert "Line 2: start with a clause number of ISO 9001:2015" in _text(response)
    response = client.post(
        "/audits/library/checklists",
        data={
            "name": "Billing checklist",
            "standard_id": "1",
            "questions": "8.5 Are invoices checked?\n9.1 Are billing errors measured?",
        },
    )
    assert response.status_code == 302
    library = _text(client.get("/audits/library"))
    assert re.search(r"Are billing errors measured\? <span[^>]*>\(clause 9\.1\)", library)
    response = client.post(
        "/audits/library/standards", data={"code": "ISO 14001:2015", "title": "Environment"}
    )
    assert response.status_code == 302
    response = client.post(
        "/audits/library/standards/1/clauses", data={"number": "11", "title": "More"}
    )
    assert response.status_code == 422 and "shipped reference data" in _text(response)
