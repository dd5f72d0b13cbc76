"""The audit report PDF, rendered by WeasyPrint and read back with pypdf as an auditor reads it;
and the report's approval signatures (lead auditor, then a quality lead)."""

from __future__ import annotations

import re

import pytest

from app.audits import services
from app.core.errors import ServiceError
from tests.audits import factories as f
from tests.conftest import TEST_PASSWORD
from tests.reports.conftest import read_pdf


def _closed_audit(lead_user, lead_auditor):
    audit = f.audit_in_progress(
        lead_user, lead=lead_auditor, processes=[f.process("Billing")], title="Billing audit"
    )
    first, second = audit.questions
    services.answer_question(
        first, "nonconforming", "3 of 10 credit notes unsigned", user=lead_user
    )
    services.answer_question(second, "conforming", "Error rate reviewed monthly", user=lead_user)
    major = services.record_finding(
        audit,
        kind="major",
        description="Credit notes issued without approval",
        question_id=first.id,
        user=lead_user,
    )
    services.record_finding(
        audit, kind="opportunity", description="Automate the approval", user=lead_user
    )
    services.raise_finding_nonconformity(major, user=lead_user)
    services.transition_audit(audit, "report", lead_user)
    services.set_conclusion(
        audit,
        "Billing is effective except for credit-note approval.",
        expected_version=audit.version,
        user=lead_user,
    )
    services.transition_audit(audit, "close", lead_user)
    return audit


def test_the_report_is_signed_by_the_lead_auditor_then_a_quality_lead(session) -> None:
    lead = f.user("quality_lead", "Quinn Lead")
    auditor = f.user("contributor", "Ada Auditor")
    audit = f.audit_in_progress(lead, lead=auditor)
    with pytest.raises(ServiceError, match="once the audit is closed"):
        services.sign_report(audit, auditor, TEST_PASSWORD)
    session.rollback()
    lead = f.user("quality_lead", "Quinn Lead")
    auditor = f.user("contributor", "Ada Auditor")
    audit = _closed_audit(lead, auditor)
    with pytest.raises(ServiceError) as error:
        services.sign_report(audit, auditor, "wrong password")
    assert error.value.field == "password"
    signature = services.sign_report(audit, auditor, TEST_PASSWORD)  # a contributor may
    assert signature.purpose == "audit_report_lead_auditor"
    with pytest.raises(services.NotPermitted, match="signed this report as lead auditor"):
        services.sign_report(audit, auditor, TEST_PASSWORD)
    services.sign_report(audit, lead, TEST_PASSWORD)
    signed = services.report_signers(audit)
    assert signed["lead_auditor"].signer_name == "Ada Auditor"
    assert signed["quality_lead"].signer_name == "Quinn Lead"
    with pytest.raises(services.NotPermitted):
        services.sign_report(audit, f.user("quality_lead"), TEST_PASSWORD)


def test_the_audit_report_pdf_reads_back_with_scope_results_findings_and_signatures(
    client, login, committed
) -> None:
    reader = login("auditor", full_name="Rita Reader")

    def build():
        lead_user = f.user("quality_lead", "Quinn Lead")
        auditor = f.user("contributor", "Ada Auditor")
        audit = _closed_audit(lead_user, auditor)
        services.sign_report(audit, auditor, TEST_PASSWORD)
        services.sign_report(audit, lead_user, TEST_PASSWORD)
        return audit.reference, audit.findings[0].nonconformity.reference

    reference, nc_reference = committed(build)
    response = client.get(f"/reports/audits/{reference}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pdf = read_pdf(response.data)
    flat = pdf.flat
    assert f"Internal audit report {reference}" in flat
    assert "Lead auditor Ada Auditor" in flat
    assert "Billing" in flat
    # Clause numbers and titles of the checklist and the scope.
    assert "8.5 Production and service provision" in flat
    assert "9.1 Monitoring, measurement, analysis and evaluation" in flat
    assert "3 of 10 credit notes unsigned" in flat
    # Findings with their nonconformity.
    assert f"{reference}/F1: Major nonconformity" in flat
    assert f"{nc_reference} (Open)" in flat
    assert f"{reference}/F2: Opportunity for improvement" in flat
    assert "Billing is effective except for credit-note approval." in flat
    # Both approvals, as signature manifestations.
    assert re.search(r"Lead auditor: signed by Ada Auditor · Approved · \d{4}-\d\d-\d\d", flat)
    assert re.search(r"Quality lead: signed by Quinn Lead · Approved · \d{4}-\d\d-\d\d", flat)
    total = len(pdf.pages)
    for number, page in enumerate(pdf.pages, start=1):
        assert f"Page {number} of {total}" in re.sub(r"\s+", " ", page)
    data = pdf.data()
    assert data["audit"]["reference"] == reference
    assert [row["count"] for row in data["results"]][:2] == [1, 1]
    assert reader.full_name == "Rita Reader"
    assert client.get("/reports/audits/AUD-1999-000009.pdf").status_code == 404


def test_an_unsigned_report_says_so_and_the_page_links_it(client, login, committed) -> None:
    login("quality_lead")

    def build():
        audit = f.audit()
        return audit.reference

    reference = committed(build)
    page = client.get(f"/audits/{reference}").get_data(as_text=True)
    assert f"/reports/audits/{reference}.pdf" in page
    pdf = read_pdf(client.get(f"/reports/audits/{reference}.pdf").data)
    assert "Lead auditor: not signed yet" in pdf.flat
    assert "No checklist was used." in pdf.flat


def test_the_lead_auditor_signs_the_report_on_the_audit_page(client, login, committed) -> None:
    auditor = login("contributor", full_name="Ada Auditor")

    def build():
        from app.extensions import db

        lead_user = f.user("quality_lead", "Quinn Lead")
        return _closed_audit(lead_user, db.session.merge(auditor)).reference

    reference = committed(build)
    page = client.get(f"/audits/{reference}").get_data(as_text=True)
    assert "Approve the report as lead auditor" in page
    response = client.post(
        f"/audits/{reference}/sign", data={"meaning": "approved", "password": "nope"}
    )
    assert response.status_code == 422
    response = client.post(
        f"/audits/{reference}/sign", data={"meaning": "approved", "password": TEST_PASSWORD}
    )
    assert response.status_code == 302
    page = re.sub(r"\s+", " ", client.get(f"/audits/{reference}").get_data(as_text=True))
    assert re.search(r"Ada Auditor — Approved — \d{4}", page)
    assert "Approve the report as" not in page
