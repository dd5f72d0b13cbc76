"""The management-review pages and minutes PDF as users see them: scheduling with its refusals,
holding the meeting (inputs frozen against later complaints), outputs, action → CAPA, the chair's
approval, and the minutes read back with pypdf."""

from __future__ import annotations

import re
from datetime import timedelta

from app.audits import services as audit_services
from app.core.db import utcnow
from app.extensions import db
from app.reviews import services
from tests.audits import factories as f
from tests.conftest import TEST_PASSWORD
from tests.nonconformities.factories import make_complaint
from tests.reports.conftest import read_pdf


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def test_scheduling_refuses_a_period_out_of_order(client, login) -> None:
    lead = login("quality_lead")
    today = utcnow().date()
    form = {
        "title": "Q4 review",
        "meeting_date": today.isoformat(),
        "period_start": today.isoformat(),
        "period_end": (today - timedelta(days=3)).isoformat(),
        "chair_id": str(lead.id),
    }
    response = client.post("/reviews/new", data=form)
    assert response.status_code == 422 and "The period cannot end" in _text(response)
    form["period_start"] = (today - timedelta(days=30)).isoformat()
    form["period_end"] = today.isoformat()
    form["guests"] = "Pat Partner"
    response = client.post("/reviews/new", data=form)
    assert response.status_code == 302
    page = _text(client.get(response.headers["Location"]))
    assert "Collected from the records now" in page and "guests: Pat Partner" in page
    assert client.get("/reviews/MR-1999-000001").status_code == 404


def test_the_held_review_keeps_its_inputs_and_the_minutes_read_back(
    client, login, committed
) -> None:
    chair = login("quality_lead", full_name="Chris Chair")

    def build():
        lead_user = db.session.merge(chair)
        billing = f.process("Billing")
        make_complaint(process_id=billing.id, received_at=utcnow() - timedelta(days=2))
        audit = f.audit_in_progress(
            lead_user,
            processes=[billing],
            start=utcnow().date() - timedelta(days=3),
            end=utcnow().date() - timedelta(days=2),
        )
        for question in audit.questions:
            audit_services.answer_question(question, "conforming", user=lead_user)
        finding = audit_services.record_finding(
            audit, kind="major", description="No approvals", user=lead_user
        )
        audit_services.raise_finding_nonconformity(finding, user=lead_user)
        audit_services.transition_audit(audit, "report", lead_user)
        audit_services.set_conclusion(
            audit, "Mostly effective.", expected_version=audit.version, user=lead_user
        )
        audit_services.transition_audit(audit, "close", lead_user)
        review = services.schedule_review(
            title="Q4 review",
            meeting_date=utcnow().date(),
            period_start=utcnow().date() - timedelta(days=30),
            period_end=utcnow().date(),
            chair_id=lead_user.id,
            user=lead_user,
        )
        return review.reference, review.version, billing.id, audit.reference

    reference, version, billing_id, audit_reference = committed(build)
    response = client.post(f"/reviews/{reference}/hold", data={"version": version})
    assert response.status_code == 302
    held = _text(client.get(f"/reviews/{reference}"))
    assert "Frozen when the meeting was held" in held
    per_process = held.split('data-testid="per-process"')[1].split("</table>")[0]
    assert 'Billing</td><td class="text-end">1</td>' in per_process
    assert audit_reference in held.split('data-testid="audit-results"')[1]
    # New complaints after the meeting started do not change its inputs.
    committed(lambda: make_complaint(process_id=billing_id, received_at=utcnow()))
    again = _text(client.get(f"/reviews/{reference}"))
    assert again.split('data-testid="per-process"')[1].split("</table>")[0] == per_process

    owner_id = committed(lambda: f.user("contributor", "Olive Owner").id)
    response = client.post(
        f"/reviews/{reference}/outputs",
        data={"kind": "action", "text": "Add an approval step", "owner_id": str(owner_id)},
    )
    assert response.status_code == 422 and "An action needs a due date." in _text(response)
    due = (utcnow().date() + timedelta(days=20)).isoformat()
    response = client.post(
        f"/reviews/{reference}/outputs",
        data={
            "kind": "action",
            "text": "Add an approval step",
            "owner_id": str(owner_id),
            "due_date": due,
        },
    )
    assert response.status_code == 302
    output_id = committed(lambda: services.get_by_reference(reference).outputs[0].id)
    response = client.post(
        f"/reviews/{reference}/outputs/{output_id}/capa",
        data={"kind": "corrective", "principles": ["3"]},
    )
    assert response.status_code == 302 and "/capa/CAPA-" in response.headers["Location"]
    version = committed(lambda: services.get_by_reference(reference).version)
    response = client.post(
        f"/reviews/{reference}/approve", data={"password": "wrong", "version": version}
    )
    assert response.status_code == 422
    response = client.post(
        f"/reviews/{reference}/approve", data={"password": TEST_PASSWORD, "version": version}
    )
    assert response.status_code == 302
    page = _text(client.get(f"/reviews/{reference}"))
    assert re.search(r"Chris Chair — Approved — \d{4}", page) and "read-only" in page

    pdf = read_pdf(client.get(f"/reports/reviews/{reference}/minutes.pdf").data)
    flat = pdf.flat
    assert f"Management review minutes {reference}" in flat
    assert "1. Status of actions from previous management reviews" in flat
    assert "6. Internal audit results" in flat and audit_reference in flat
    assert "Add an approval step" in flat and "CAPA-" in flat
    assert "Signed by Chris Chair · Approved" in flat
    total = len(pdf.pages)
    assert all(
        f"Page {n} of {total}" in re.sub(r"\s+", " ", page) for n, page in enumerate(pdf.pages, 1)
    )
    assert pdf.data()["review"]["inputs_sha256"]
