"""The internal audit report (ISO 9001 clause 9.2): scope, team, the checklist with its results,
the findings with the nonconformities they raised (and those nonconformities' CAPAs and
effectiveness), the conclusion, and the approval signatures of the lead auditor and a quality
lead."""

from __future__ import annotations

from collections import Counter

from app.audits import services as audit_services
from app.audits.models import Answer, Audit
from app.core.signatures import changed_after_signature
from reports.base import (
    Report,
    day,
    events_of,
    history_data,
    name_of,
    report_data,
    signature_data,
    when,
)


def gather_audit_report(audit: Audit) -> Report:
    """The report of `audit` (load it with `app.audits.services.get_by_reference`)."""
    filters = [("Record", audit.reference)]
    answers = Counter(question.answer for question in audit.questions)
    signers = audit_services.report_signers(audit)
    data = report_data(
        filters,
        audit={
            "reference": audit.reference,
            "title": audit.title,
            "programme": audit.programme.title,
            "status": audit.status.label,
            "planned_start": day(audit.planned_start),
            "planned_end": day(audit.planned_end),
            "started_at": when(audit.started_at),
            "closed_at": when(audit.closed_at),
            "lead_auditor": audit.lead_auditor.full_name,
            "team": [member.full_name for member in audit.team],
            "processes": [process.name for process in audit.processes],
            "sites": [site.name for site in audit.sites],
            "clauses": [f"{clause.standard.code} {clause.label}" for clause in audit.clauses],
            "scope": audit.scope,
            "criteria": audit.criteria,
            "independence_exception": audit.independence_exception or None,
            "conclusion": audit.conclusion,
            "cancel_reason": audit.cancel_reason or None,
        },
        results=[{"answer": answer.label, "count": answers.get(answer, 0)} for answer in Answer]
        + [{"answer": "Not answered", "count": answers.get(None, 0)}],
        checklist=[
            {
                "position": question.position,
                "clause": question.clause.number,
                "clause_title": question.clause.title,
                "question": question.text,
                "template": question.template_name,
                "answer": question.answer.label if question.answer else "Not answered",
                "evidence": question.evidence,
                "answered_by": name_of(question.answered_by),
            }
            for question in audit.questions
        ],
        findings=[
            {
                "reference": finding.reference,
                "kind": finding.kind.label,
                "clause": finding.clause.label if finding.clause else None,
                "process": finding.process.name if finding.process else None,
                "description": finding.description,
                "evidence": finding.evidence,
                "nonconformity": (
                    {
                        "reference": finding.nonconformity.reference,
                        "status": finding.nonconformity.status.label,
                        "capas": [
                            {
                                "reference": capa.reference,
                                "status": capa.status.label,
                                "checks": [check.result.label for check in capa.checks],
                            }
                            for capa in finding.nonconformity.capas
                        ],
                    }
                    if finding.nonconformity
                    else None
                ),
            }
            for finding in audit.findings
        ],
        approvals=[
            {
                "part": audit_services.REPORT_SIGNER_LABELS[part],
                "signature": signature_data(
                    signature,
                    audit.reference,
                    changed_after_signature(signature, audit),
                    f"report approval ({audit_services.REPORT_SIGNER_LABELS[part].lower()})",
                )
                if signature
                else None,
            }
            for part, signature in signers.items()
        ],
        history=history_data(events_of([audit, *audit.questions, *audit.findings]), {}),
    )
    return Report(
        kind="internal_audit",
        title=f"Internal audit report {audit.reference}",
        template="internal_audit.html",
        data=data,
        filters=filters,
        record_type="internal_audit",
        record_id=str(audit.id),
        filename_stem=audit.reference,
        subject=f"{audit.reference}: {audit.title}",
        keywords=[
            audit.reference,
            *(f.nonconformity.reference for f in audit.findings if f.nonconformity),
        ],
    )
