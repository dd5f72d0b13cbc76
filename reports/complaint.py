"""The complaint recovery report: the complaint and its three recoveries (customer, process,
employee), traceable to every process fix and TQM principle, with the complaint's history."""

from __future__ import annotations

from app.accounts.services import signatures_of
from app.capa import services as capa_services
from app.complaints import services as complaint_services
from app.complaints.models import Complaint
from app.complaints.traceability import RecoveryState, complaint_traceability
from app.core.signatures import changed_after_signature
from reports.base import (
    Report,
    attachment_data,
    day,
    history_data,
    money,
    name_of,
    report_data,
    signature_data,
    when,
)


def _state(state: RecoveryState) -> dict[str, str]:
    return {"state": state.label, "summary": state.summary}


def gather_complaint_report(complaint: Complaint) -> Report:
    """The recovery report of `complaint` (load it with `complaint_services.get_by_reference`)."""
    filters = [("Record", complaint.reference)]
    trace = complaint_traceability(complaint)
    times = complaint_services.response_times(complaint)
    signatures = [
        signature_data(sig, complaint.reference, changed_after_signature(sig, complaint))
        for sig in signatures_of(complaint)
    ]
    nonconformities = []
    for nc_trace in trace.nonconformities:
        nc = nc_trace.nonconformity
        signatures.extend(
            signature_data(sig, nc.reference, changed_after_signature(sig, nc))
            for sig in signatures_of(nc)
        )
        capas = []
        for capa_trace in nc_trace.capas:
            capa = capa_trace.capa
            signatures.extend(
                signature_data(row.signature, capa.reference, row.changed, row.purpose_label)
                for row in capa_services.signature_rows(capa)
            )
            capas.append(
                {
                    "reference": capa.reference,
                    "title": capa.title,
                    "kind": capa.kind.label,
                    "recovery": capa.recovery_dimension.label,
                    "status": capa.status.label,
                    "owner": name_of(capa.owner),
                    "effectiveness": capa_trace.effectiveness,
                    "principles": [f"{p.id}. {p.name}" for p in capa.principles],
                }
            )
        nonconformities.append(
            {
                "reference": nc.reference,
                "title": nc.title,
                "status": nc.status.label,
                "root_causes": [
                    {"statement": cause.statement, "category": cause.cause_category}
                    for cause in nc_trace.root_causes
                ],
                "capas": capas,
            }
        )
    labels = {("complaint", str(complaint.id)): complaint.reference}
    for action in complaint.recovery_actions:
        labels[("recovery_action", str(action.id))] = f"Recovery: {action.kind.label.lower()}"
    data = report_data(
        filters,
        complaint={
            "reference": complaint.reference,
            "title": complaint.title,
            "description": complaint.description,
            "status": complaint.status.label,
            "severity": complaint.severity.label,
            "channel": complaint.channel.label,
            "received_at": when(complaint.received_at),
            "customer": complaint.customer.name if complaint.customer else None,
            "product_or_service": complaint.product_or_service,
            "process": complaint.process.name if complaint.process else None,
            "category": complaint.category.name if complaint.category else None,
            "assignee": name_of(complaint.assignee),
            "escalation_level": complaint.escalation_level,
            "first_response_at": when(complaint.first_response_at),
            "first_response_after": complaint_services.format_duration(times.first_response),
            "resolved_at": when(complaint.resolved_at),
            "resolved_after": complaint_services.format_duration(times.resolution),
            "closed_at": when(complaint.closed_at),
            "csat_score": complaint.csat_score,
            "csat_comment": complaint.csat_comment,
            "retention": complaint.retention_status.label,
        },
        recoveries={
            "customer": _state(trace.customer),
            "process": _state(trace.process),
            "employee": _state(trace.employee),
            "missing": trace.missing,
        },
        recovery_actions=[
            {
                "kind": action.kind.label,
                "description": action.description,
                "amount": money(action.amount),
                "currency": action.currency,
                "done_at": when(action.done_at),
                "done_by": name_of(action.done_by),
            }
            for action in complaint.recovery_actions
        ],
        recovery_costs={
            currency: money(total)
            for currency, total in complaint_services.recovery_costs(complaint).items()
        },
        nonconformities=nonconformities,
        trainings=[
            {
                "staff": name_of(training.staff),
                "topic": training.topic,
                "capa": training.capa.reference,
                "due_date": day(training.due_date),
                "completed_at": when(training.completed_at),
            }
            for training in trace.trainings
        ],
        signatures=signatures,
        attachments=attachment_data([(complaint.reference, complaint)]),
        history=history_data(complaint_services.complaint_history(complaint), labels),
    )
    return Report(
        kind="complaint_recovery",
        title=f"Complaint recovery report {complaint.reference}",
        template="complaint.html",
        data=data,
        filters=filters,
        record_type="complaint",
        record_id=str(complaint.id),
        filename_stem=f"{complaint.reference}-recovery",
        subject=f"{complaint.reference}: {complaint.title}",
        keywords=[complaint.reference, *(nc["reference"] for nc in nonconformities)],
    )
