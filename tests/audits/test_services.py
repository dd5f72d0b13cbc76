"""Internal-audit services without HTTP: reference data, planning, independence, checklists,
findings raising nonconformities, and the workflow's guards."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.audits import library, services
from app.audits.models import Answer, AuditStatus, Clause, FindingKind, Standard
from app.core.audit import AuditEvent
from app.core.errors import ServiceError, StaleRecord
from app.core.workflow import RecordLocked, TransitionRefused
from app.nonconformities.models import NonconformitySource
from tests.audits import factories as f


def test_the_migration_ships_iso_9001_clauses_4_to_10_3(session) -> None:
    standard = session.scalar(select(Standard).where(Standard.code == "ISO 9001:2015"))
    assert standard.builtin
    numbers = [clause.number for clause in standard.clauses]
    assert numbers[0] == "4" and numbers[-1] == "10.3"
    assert len(numbers) == 35
    assert f.clause("9.2").title == "Internal audit"
    assert f.clause("10.2").title == "Nonconformity and corrective action"


def test_users_add_their_own_standards_but_not_to_the_shipped_one(session) -> None:
    lead = f.user()
    own = library.create_standard("ISO 14001:2015", "Environmental management", user=lead)
    clause = library.add_clause(own, "6.1.2", "Environmental aspects", user=lead)
    assert clause.label == "6.1.2 Environmental aspects"
    with pytest.raises(ServiceError, match=r"already has a clause 6\.1\.2"):
        library.add_clause(own, "6.1.2", "Again", user=lead)
    iso = session.scalar(select(Standard).where(Standard.builtin.is_(True)))
    with pytest.raises(ServiceError, match="shipped reference data"):
        library.add_clause(iso, "11", "Invented", user=lead)
    with pytest.raises(services.NotPermitted):
        library.create_standard("X", "Y", user=f.user("contributor"))


def test_planning_checks_dates_year_and_scope(session) -> None:
    lead = f.user()
    programme = f.programme(2026)
    base = dict(title="Audit", lead_auditor_id=lead.id, process_ids=[f.process().id], user=lead)
    with pytest.raises(ServiceError, match="cannot be before the start") as error:
        services.plan_audit(
            programme, planned_start=date(2026, 5, 10), planned_end=date(2026, 5, 9), **base
        )
    assert error.value.field == "planned_end"
    with pytest.raises(ServiceError, match="must start in 2026"):
        services.plan_audit(
            programme, planned_start=date(2027, 1, 4), planned_end=date(2027, 1, 5), **base
        )
    with pytest.raises(ServiceError, match="at least one process, site or clause"):
        services.plan_audit(
            programme,
            title="Audit",
            lead_auditor_id=lead.id,
            planned_start=date(2026, 5, 4),
            planned_end=date(2026, 5, 5),
            user=lead,
        )
    audit = services.plan_audit(
        programme, planned_start=date(2026, 5, 4), planned_end=date(2026, 5, 5), **base
    )
    assert audit.reference.startswith("AUD-2026-")
    assert audit.status == AuditStatus.PLANNED


def test_an_auditor_may_not_audit_a_process_they_own(session) -> None:
    owner = f.user("contributor", "Olga Owner")
    billing = f.process("Billing", owner=owner)
    with pytest.raises(ServiceError) as error:
        f.audit(owner, processes=[billing])
    assert error.value.field == "lead_auditor_id"
    assert "Olga Owner owns the process Billing" in error.value.message
    assert "justified exception" in error.value.message
    # As a team member too.
    with pytest.raises(ServiceError, match="Olga Owner owns the process Billing"):
        f.audit(f.user("contributor"), processes=[billing], team=[owner])


def test_a_quality_lead_records_a_justified_exception_which_is_audited(session) -> None:
    lead = f.user()
    owner = f.user("contributor", "Olga Owner")
    billing = f.process("Billing", owner=owner)
    with pytest.raises(services.NotPermitted):
        f.audit(
            owner,
            processes=[billing],
            independence_justification="Only trained auditor",
            user=f.user("contributor"),
        )
    session.rollback()
    owner = f.user("contributor", "Olga Owner")
    billing = f.process("Billing", owner=owner)
    audit = f.audit(
        owner,
        processes=[billing],
        independence_justification="The only trained auditor; witnessed by the quality lead.",
        user=lead,
    )
    assert audit.independence_exception.startswith("The only trained auditor")
    event = session.scalar(
        select(AuditEvent).where(
            AuditEvent.record_type == "internal_audit", AuditEvent.record_id == str(audit.id)
        )
    )
    assert event.reason == "The only trained auditor; witnessed by the quality lead."
    services.add_checklist(audit, f.template().id, user=lead)
    services.transition_audit(audit, "prepare", lead)  # the exception covers the conflict
    # A conflict the exception does not cover is refused again.
    second = f.user("contributor", "Sam Second")
    audit.processes.append(f.process("Dispatch", owner=second))
    audit.team.append(second)
    with pytest.raises(TransitionRefused, match="Sam Second owns the process Dispatch"):
        services.transition_audit(audit, "start", lead)


def test_the_checklist_is_a_copy_answered_while_in_progress(session) -> None:
    lead = f.user()
    audit = f.audit()
    template = f.template("Delivery checklist", questions=3)
    questions = services.add_checklist(audit, template.id, user=lead)
    assert questions[0].text.startswith("Question 1")
    with pytest.raises(ServiceError, match="already on this audit"):
        services.add_checklist(audit, template.id, user=lead)
    library.add_template_question(template, "A later question", f.clause("7.2").id, user=lead)
    assert len(audit.questions) == 3  # the audit keeps its copy
    with pytest.raises(ServiceError, match="while the audit is in progress"):
        services.answer_question(questions[0], "conforming", user=lead)
    services.transition_audit(audit, "prepare", lead)
    services.transition_audit(audit, "start", lead)
    with pytest.raises(ServiceError, match="Note the evidence") as error:
        services.answer_question(questions[0], "nonconforming", "", user=lead)
    assert error.value.field == "evidence"
    with pytest.raises(ServiceError, match="Choose an answer"):
        services.answer_question(questions[0], "maybe", user=lead)
    answered = services.answer_question(
        questions[0], "nonconforming", "Two invoices unsigned", user=lead
    )
    assert answered.answer == Answer.NONCONFORMING and answered.answered_by_id == lead.id
    with pytest.raises(StaleRecord):
        services.answer_question(questions[1], "conforming", expected_version=99, user=lead)


def test_only_the_team_and_quality_leads_record_and_never_auditor_role_users(session) -> None:
    lead = f.user()
    member = f.user("contributor", "Tess Team")
    outsider = f.user("contributor", "Otto Outsider")
    auditor_lead = f.user("auditor", "Ed External")
    audit = f.audit_in_progress(lead, team=[member])
    question = audit.questions[0]
    services.answer_question(question, "conforming", user=member)
    assert services.may_record(member, audit)
    for person in (outsider, auditor_lead):
        with pytest.raises(services.NotPermitted):
            services.answer_question(question, "conforming", user=person)
    named_auditor = f.audit_in_progress(lead, lead=auditor_lead)
    assert not services.may_record(auditor_lead, named_auditor)
    with pytest.raises(services.NotPermitted):
        services.transition_audit(named_auditor, "report", auditor_lead)


def test_a_finding_raises_a_linked_prefilled_nonconformity(session) -> None:
    lead = f.user()
    owner = f.user("contributor", "Pia Owner")
    member = f.user("contributor", "Tess Team")
    billing = f.process("Billing", owner=owner)
    audit = f.audit_in_progress(lead, processes=[billing], team=[member])
    finding = services.record_finding(
        audit,
        kind="major",
        description="Credit notes issued without approval",
        evidence="3 of 10 sampled credit notes unsigned",
        question_id=audit.questions[0].id,
        user=member,
    )
    assert finding.reference == f"{audit.reference}/F1"
    assert finding.process == billing  # the only process in scope
    assert finding.clause.number == "8.5"  # from the question
    nc = services.raise_finding_nonconformity(finding, user=member)
    assert nc.source == NonconformitySource.INTERNAL_AUDIT
    assert nc.title == f"{finding.reference}: Credit notes issued without approval"
    assert audit.reference in nc.description and "3 of 10 sampled" in nc.description
    assert nc.process == billing and nc.owner == owner
    assert nc.rpn == 200
    assert finding.nonconformity == nc and nc.audit_finding == finding
    with pytest.raises(ServiceError, match="already raised"):
        services.raise_finding_nonconformity(finding, user=member)
    observation = services.record_finding(
        audit, kind=FindingKind.OBSERVATION, description="Tidy desks", user=member
    )
    with pytest.raises(ServiceError, match="only major and minor"):
        services.raise_finding_nonconformity(observation, user=member)
    with pytest.raises(ServiceError, match="in the audit's scope"):
        services.record_finding(
            audit, kind="minor", description="x", process_id=f.process().id, user=member
        )


def test_the_workflow_guards_reporting_and_closing(session) -> None:
    lead = f.user()
    audit = f.audit()
    services.transition_audit(audit, "prepare", lead)
    with pytest.raises(TransitionRefused, match="Add a checklist"):
        services.transition_audit(audit, "start", lead)
    services.add_checklist(audit, f.template().id, user=lead)
    services.transition_audit(audit, "start", lead)
    assert audit.started_at is not None
    with pytest.raises(TransitionRefused, match=r"Answer every checklist question first \(2"):
        services.transition_audit(audit, "report", lead)
    for question in audit.questions:
        services.answer_question(question, "conforming", user=lead)
    major = services.record_finding(audit, kind="major", description="No backups", user=lead)
    services.transition_audit(audit, "report", lead)
    with pytest.raises(TransitionRefused, match="Write the audit's conclusion"):
        services.transition_audit(audit, "close", lead)
    services.set_conclusion(
        audit, "The process is effective apart from F1.", expected_version=audit.version, user=lead
    )
    with pytest.raises(TransitionRefused, match="major finding has no nonconformity") as error:
        services.transition_audit(audit, "close", lead)
    assert major.reference in str(error.value.message)
    assert audit.status == AuditStatus.REPORTING
    services.raise_finding_nonconformity(major, user=lead)
    services.transition_audit(audit, "close", lead)
    assert audit.status == AuditStatus.CLOSED and audit.closed_at is not None
    with pytest.raises(RecordLocked, match="closed and read-only"):
        services.record_finding(audit, kind="minor", description="Late", user=lead)


def test_cancelling_needs_a_reason_and_contributors_cannot_close(session) -> None:
    lead = f.user()
    contributor_lead = f.user("contributor")
    audit = f.audit(contributor_lead)
    with pytest.raises(ServiceError, match="reason for cancelling"):
        services.transition_audit(audit, "cancel", lead, "  ")
    with pytest.raises(services.NotPermitted):
        services.transition_audit(audit, "cancel", contributor_lead, "Not needed")
    services.transition_audit(audit, "prepare", contributor_lead)  # the lead auditor may
    services.transition_audit(audit, "cancel", lead, "Process retired")
    assert audit.status == AuditStatus.CANCELLED and audit.cancel_reason == "Process retired"


def test_plan_changes_refuse_stale_forms_and_started_audits(session) -> None:
    lead = f.user()
    audit = f.audit()
    values = dict(
        title="Renamed",
        planned_start=audit.planned_start,
        planned_end=audit.planned_end,
        lead_auditor_id=audit.lead_auditor_id,
        process_ids=[p.id for p in audit.processes],
        user=lead,
    )
    with pytest.raises(StaleRecord):
        services.update_audit(audit, expected_version=audit.version - 1, **values)
    services.update_audit(audit, expected_version=audit.version, **values)
    assert audit.title == "Renamed"
    services.add_checklist(audit, f.template().id, user=lead)
    services.transition_audit(audit, "prepare", lead)
    services.transition_audit(audit, "start", lead)
    with pytest.raises(ServiceError, match="plan can no longer change"):
        services.update_audit(audit, expected_version=audit.version, **values)
    assert session.scalars(select(Clause)).first() is not None
