"""Demo internal audits and a management review: this year's audit programme with one audit per
process, the past ones done (checklists answered, findings, nonconformities raised from the major
and minor ones, a CAPA with its effectiveness check), one overdue, the rest planned; and one held
management review with its frozen inputs, a decision and actions (one turned into a CAPA)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select

from app.accounts.models import User
from app.audits import library
from app.audits import services as audits
from app.audits.models import AuditProgramme, Clause, Standard
from app.capa import effectiveness as capa_effectiveness
from app.capa import services as capa_services
from app.core.db import utcnow
from app.extensions import db
from app.organisation.models import Process
from app.reviews import services as reviews

CHECKLISTS = {
    "Service delivery (ISO 9001 clause 8)": [
        ("8.1", "Are the process's steps, inputs and outputs planned and documented?"),
        ("8.2", "Are customer requirements confirmed before the service is committed?"),
        ("8.5", "Are work instructions available where the service is delivered?"),
        ("8.7", "Are nonconforming outputs identified and kept from reaching the customer?"),
    ],
    "Evaluation and improvement (ISO 9001 clauses 9 and 10)": [
        ("9.1", "Are the process's KPIs measured and reviewed at planned intervals?"),
        ("10.2", "Are nonconformities analysed to a root cause and acted on?"),
    ],
}
# Per done audit: the findings it records (kind, description, evidence).
FINDINGS = [
    [
        (
            "major",
            "Refunds above 500 are issued without the second approval the procedure requires.",
            "4 of 12 sampled refunds (March) had one approval only.",
        ),
        ("opportunity", "Automate the approval routing in the billing system.", ""),
    ],
    [
        (
            "minor",
            "The installation checklist in the field app is an outdated version.",
            "Version 3 in use; version 4 approved in January.",
        ),
        ("observation", "Engineers keep personal copies of work instructions.", ""),
    ],
    [("observation", "KPI reviews are held but not minuted.", "")],
]


@dataclass
class AuditSeedResult:
    audits: int = 0
    findings: int = 0
    nonconformities: int = 0
    reviews: int = 0


def _people() -> tuple[User, User, User] | None:
    def first(role: str) -> User | None:
        return db.session.scalar(
            select(User).where(User.role == role, User.active.is_(True)).order_by(User.id)
        )

    lead, contributor, auditor = first("quality_lead"), first("contributor"), first("auditor")
    if lead is None or contributor is None:
        return None
    return lead, contributor, auditor or contributor


def _clause(number: str) -> Clause:
    return db.session.scalar(
        select(Clause).join(Standard).where(Standard.builtin.is_(True), Clause.number == number)
    )


def _templates() -> list[int]:
    return [
        library.create_template(
            name, "Demo checklist", [(text, _clause(number).id) for number, text in questions]
        ).id
        for name, questions in CHECKLISTS.items()
    ]


def _done(audit, lead: User, findings, end: date, result: AuditSeedResult) -> None:
    audits.transition_audit(audit, "prepare", lead)
    audits.transition_audit(audit, "start", lead)
    for question in audit.questions:
        nonconforming = findings and question.clause.number in ("8.5", "8.7", "10.2")
        audits.answer_question(
            question,
            "nonconforming" if nonconforming else "conforming",
            findings[0][2] if nonconforming and findings[0][2] else "Sampled records reviewed.",
        )
    detected = datetime.combine(end, time(16, 0), tzinfo=UTC)
    for kind, description, evidence in findings:
        finding = audits.record_finding(
            audit, kind=kind, description=description, evidence=evidence
        )
        result.findings += 1
        if finding.kind.is_nonconformity:
            audits.raise_finding_nonconformity(finding, detected_at=detected)
            result.nonconformities += 1
    audits.transition_audit(audit, "report", lead)
    audit.conclusion = "The process is effective and conforms to the audit criteria" + (
        ", except for the findings recorded." if findings else "."
    )
    db.session.flush()
    audits.transition_audit(audit, "close", lead)


def seed_demo_audits(today: date | None = None) -> AuditSeedResult:
    """This year's programme and one held review; does nothing when a programme exists."""
    result = AuditSeedResult()
    people = _people()
    if people is None or db.session.scalar(select(func.count(AuditProgramme.id))):
        return result
    lead, lead_auditor, team_member = people
    today = today or utcnow().date()
    programme = audits.create_programme(
        today.year,
        objectives="Audit every process once a year, high-risk processes twice.",
    )
    template_ids = _templates()
    processes = list(db.session.scalars(select(Process).order_by(Process.id)))
    done_findings = list(FINDINGS)
    first_capa_nc = None
    for index, process in enumerate(processes):
        month = 1 + (index * 11) // max(1, len(processes) - 1) if len(processes) > 1 else 6
        start = date(today.year, month, 10)
        end = start + timedelta(days=1)
        audit = audits.plan_audit(
            programme,
            title=f"{process.name} process audit",
            planned_start=start,
            planned_end=end,
            lead_auditor_id=lead_auditor.id,
            team_ids=[team_member.id] if team_member.id != lead_auditor.id else [],
            process_ids=[process.id],
            site_ids=[process.site_id] if process.site_id else [],
            clause_ids=[_clause(number).id for number in ("8.1", "8.5", "9.1", "10.2")],
            scope=f"The {process.name.lower()} process end to end, at its site.",
            criteria="ISO 9001:2015 clauses 8–10; the process description and work instructions.",
        )
        result.audits += 1
        for template_id in template_ids:
            audits.add_checklist(audit, template_id)
        if end < today - timedelta(days=14) and done_findings:
            findings = done_findings.pop(0)
            _done(audit, lead, findings, end, result)
            major = next((f for f in audit.findings if f.kind.value == "major"), None)
            if major is not None and first_capa_nc is None:
                first_capa_nc = major.nonconformity
        elif end < today:
            # Past its end and not reported: shows as overdue on the programme.
            audits.transition_audit(audit, "prepare", lead)
            audits.transition_audit(audit, "start", lead)
    if first_capa_nc is not None:
        capa = capa_services.plan_capa(
            kind="corrective",
            recovery_dimension="process",
            title="Enforce the second approval for large refunds in the billing system",
            owner_id=lead.id,
            due_date=today + timedelta(days=30),
            principle_ids=[3, 6],
            nonconformity_ids=[first_capa_nc.id],
        )
        capa_effectiveness.plan_effectiveness_check(
            capa,
            criterion="No refund above 500 without two approvals in a 60-day sample",
            method="manual_review",
            window_days=None,
            due_date=today + timedelta(days=90),
            user=lead,
        )
    _seed_review(lead, lead_auditor, today, result)
    return result


def _seed_review(lead: User, attendee: User, today: date, result: AuditSeedResult) -> None:
    meeting = today - timedelta(days=7)
    review = reviews.schedule_review(
        title=f"Management review {meeting:%B %Y}",
        meeting_date=meeting,
        period_start=meeting - timedelta(days=90),
        period_end=meeting - timedelta(days=1),
        chair_id=lead.id,
        attendee_ids=[attendee.id],
        guests="Morgan Director (managing director)",
        agenda="1. Actions from the last review\n2. Inputs 9.3.2 a–f\n3. Decisions and actions",
    )
    review.external_issues = "New consumer-protection rules on refunds take effect next quarter."
    review.resources = "Customer care is two agents short during the winter peak."
    db.session.flush()
    reviews.hold_review(review, lead)
    reviews.add_output(
        review, kind="decision", text="Keep the quality objectives for the next year unchanged."
    )
    reviews.add_output(
        review,
        kind="action",
        text="Recruit two customer-care agents before the winter peak.",
        owner_id=lead.id,
        due_date=today + timedelta(days=45),
    )
    training = reviews.add_output(
        review,
        kind="action",
        text="Brief all billing staff on the refund approval rule.",
        owner_id=attendee.id if attendee.role != "auditor" else lead.id,
        due_date=today + timedelta(days=21),
    )
    reviews.action_to_capa(training, kind="preventive", principle_ids=[2, 8], user=lead)
    result.reviews += 1
