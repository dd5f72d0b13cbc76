"""The operating model's gap findings and diagram; the assessment's revisions; the strategy map
from an objective down to the complaint its CAPA answers, on the page and in the PDF."""

from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from app.complaints import services as complaint_services
from app.core.audit import AuditEvent
from app.core.errors import ServiceError, StaleRecord
from app.extensions import db
from app.metrics import objectives
from app.organisation import services as organisation
from app.strategy import assessment, operating_model
from app.strategy.models import FactorKind
from tests.strategy.story import build_line


def test_gap_findings_name_unowned_processes_recoveries_and_initiatives(session, make_user) -> None:
    lead = db.session.merge(make_user("quality_lead"))
    billing = organisation.create_process(name="Billing", owner_id=lead.id)
    delivery = organisation.create_process(name="Delivery", owner_id=lead.id)
    organisation.create_process(name="Quiet process", owner_id=lead.id)  # no complaints: no gap
    for process in (billing, billing, delivery):
        complaint_services.record_complaint(
            user=lead, title="Late", channel="phone", severity="low", process_id=process.id
        )
    objective = objectives.create_objective(title="Retention", owner_id=lead.id)
    carried = objectives.create_initiative(
        objective, title="Call-back promise", owner_id=lead.id, principle_ids=[1]
    )
    objectives.create_initiative(
        objective, title="Orphan initiative", owner_id=lead.id, principle_ids=[2]
    )
    operating_model.create_department(
        name="Logistics",
        head_id=lead.id,
        process_ids=[delivery.id],
        initiative_ids=[carried.id],
        recoveries=["process"],
    )
    gaps = [(gap.kind, gap.subject, gap.finding) for gap in operating_model.gap_findings()]
    assert gaps == [
        ("process", "Billing", "2 complaints but no department runs this process."),
        ("recovery", "Customer recovery", "No department owns this recovery."),
        ("recovery", "Employee recovery", "No department owns this recovery."),
        ("initiative", "Orphan initiative", "No department carries this initiative."),
    ]
    model = operating_model.operating_model()
    assert [d.name for d in model.owners[next(iter(model.owners))]] == []  # customer: nobody
    svg = model.diagram_svg()
    assert svg.startswith("<svg") and "Logistics" in svg and "Delivery" in svg
    assert "Customer (no owner)" in svg


def test_department_rules(session, make_user) -> None:
    lead = db.session.merge(make_user("quality_lead"))
    department = operating_model.create_department(name="Care", head_id=lead.id)
    with pytest.raises(ServiceError, match="exists already"):
        operating_model.create_department(name="Care")
    with pytest.raises(ServiceError, match="Choose recoveries"):
        operating_model.create_department(name="Other", recoveries=["financial"])
    with pytest.raises(StaleRecord):
        operating_model.update_department(department, expected_version=99, name="Care")


def test_the_assessment_keeps_what_was_believed_on_each_day(session, make_user) -> None:
    lead = db.session.merge(make_user("quality_lead"))
    entry = assessment.record_entry(
        kind="external_factor",
        title="Regulator's complaint-handling rules",
        statement="New rules expected next year.",
        impact="medium",
        assessed_on=date(2026, 1, 15),
        user=lead,
        today=date(2026, 6, 1),
    )
    assessment.revise_entry(
        entry,
        expected_version=entry.version,
        statement="The rules are in force: eight weeks to a final response.",
        impact="high",
        assessed_on=date(2026, 4, 2),
        user=lead,
        today=date(2026, 6, 1),
    )
    q1 = assessment.assessment_as_of(date(2026, 3, 31))[FactorKind.EXTERNAL_FACTOR]
    assert [(f.revision.number, f.revision.impact.value, f.superseded) for f in q1] == [
        (1, "medium", True)
    ]
    now = assessment.assessment_as_of(date(2026, 6, 1))[FactorKind.EXTERNAL_FACTOR]
    assert now[0].revision.statement.startswith("The rules are in force")
    assert assessment.assessment_as_of(date(2026, 1, 1))[FactorKind.EXTERNAL_FACTOR] == []
    with pytest.raises(ServiceError, match="cannot be dated earlier"):
        assessment.revise_entry(
            entry,
            expected_version=entry.version,
            statement="x",
            impact="low",
            assessed_on=date(2026, 3, 1),
            user=lead,
            today=date(2026, 6, 1),
        )
    with pytest.raises(StaleRecord):
        assessment.revise_entry(entry, expected_version=1, statement="x", impact="low", user=lead)
    db.session.flush()
    audited = db.session.scalars(
        select(AuditEvent.record_type).where(AuditEvent.record_type.like("assessment%"))
    ).all()
    assert "assessment_entry" in audited and "assessment_revision" in audited


@pytest.fixture()
def line(app, db_connection, committed, make_user) -> tuple[int, int, str, str]:
    """An objective → initiative → goal → CAPA → nonconformity → complaint line, committed."""
    lead = make_user("quality_lead")
    built = committed(lambda: build_line(db.session.merge(lead)))
    return built.objective_id, built.initiative_id, built.capa, built.complaint


def test_the_map_shows_the_complaint_at_the_bottom_of_the_objectives_line(
    client, login, line
) -> None:
    objective_id, _, capa_ref, complaint_ref = line
    login("contributor")
    page = client.get("/strategy/map").get_data(as_text=True)
    section = page[page.index(f'data-testid="objective-{objective_id}"') :]
    section = section[: section.index("</section>")]
    assert "Fix the billing process" in section
    assert "Process-centered, Continual improvement" in section  # the initiative's principles
    assert capa_ref in section
    assert complaint_ref in section and "Charged twice for one order" in section
    assert section.index(capa_ref) < section.index(complaint_ref)
    assert "complaints answered 1" in section
    assert "CAPAs effective 0 of 1" in section


def test_linking_a_capa_twice_or_an_unknown_one_is_refused(client, login, line) -> None:
    _, initiative_id, capa_ref, _ = line
    login("quality_lead")
    twice = client.post(
        f"/strategy/initiatives/{initiative_id}/capas",
        data={"reference": capa_ref},
        follow_redirects=True,
    )
    assert "serves this initiative already" in twice.get_data(as_text=True)
    unknown = client.post(
        f"/strategy/initiatives/{initiative_id}/capas",
        data={"reference": "CAPA-1999-0001"},
        follow_redirects=True,
    )
    assert "There is no CAPA CAPA-1999-0001" in unknown.get_data(as_text=True)


def test_the_map_pdf_reads_back_with_the_line(client, login, line) -> None:
    _, _, capa_ref, complaint_ref = line
    login("auditor")
    response = client.get("/strategy/map.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    assert "Strategy map" in text
    assert "Increase customer retention and loyalty" in text
    assert capa_ref in text and complaint_ref in text
