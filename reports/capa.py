"""The CAPA report: the action, what it answers (nonconformities, root causes, complaints), the TQM
principles it serves, the training it assigned, its effectiveness checks, its signatures and its
audit history."""

from __future__ import annotations

from app.capa import services as capa_services
from app.capa.models import Capa, RecoveryDimension
from reports.base import (
    Report,
    attachment_data,
    day,
    events_of,
    history_data,
    money,
    name_of,
    report_data,
    signature_data,
    when,
)


def gather_capa_report(capa: Capa) -> Report:
    """The CAPA report of `capa` (load it with `capa_services.capa_by_reference`)."""
    filters = [("Record", capa.reference)]
    # Records are named as the trail names them (app.core.audit_display): the CAPA by its
    # reference, "Training: <topic>", "Effectiveness check: <criterion>".
    labels: dict[tuple[str, str], str] = {}
    data = report_data(
        filters,
        capa={
            "reference": capa.reference,
            "title": capa.title,
            "description": capa.description,
            "kind": capa.kind.label,
            "recovery": (
                "Employee recovery (training)"
                if capa.recovery_dimension == RecoveryDimension.EMPLOYEE
                else "Process recovery"
            ),
            "status": capa.status.label,
            "owner": name_of(capa.owner),
            "due_date": day(capa.due_date),
            "overdue": capa_services.is_overdue(capa),
            "cost": money(capa.cost),
            "implemented_at": when(capa.implemented_at),
            "closed_at": when(capa.closed_at),
            "follow_up_of": capa.follow_up_of.reference if capa.follow_up_of else None,
            "created_at": when(capa.created_at),
        },
        follow_ups=[
            {"reference": item.reference, "title": item.title, "status": item.status.label}
            for item in capa_services.follow_ups_of(capa)
        ],
        nonconformities=[
            {
                "reference": nc.reference,
                "title": nc.title,
                "status": nc.status.label,
                "detected_at": when(nc.detected_at),
                "rpn": nc.rpn,
            }
            for nc in capa.nonconformities
        ],
        complaints=[
            {
                "reference": complaint.reference,
                "title": complaint.title,
                "status": complaint.status.label,
                "received_at": when(complaint.received_at),
            }
            for complaint in capa_services.complaints_answered(capa)
        ],
        root_causes=[
            {
                "statement": cause.statement,
                "category": cause.cause_category,
                "nonconformity": cause.analysis.nonconformity.reference,
                "method": cause.analysis.method.label,
                "verified": cause.verified,
                "verified_by": name_of(cause.verified_by),
                "verified_at": when(cause.verified_at),
            }
            for cause in sorted(capa.root_causes, key=lambda cause: cause.id)
        ],
        principles=[
            {"number": principle.id, "name": principle.name, "description": principle.description}
            for principle in capa.principles
        ],
        trainings=[
            {
                "staff": name_of(training.staff),
                "topic": training.topic,
                "due_date": day(training.due_date),
                "completed_at": when(training.completed_at),
            }
            for training in capa.trainings
        ],
        checks=[
            {
                "criterion": check.criterion,
                "method": check.method.label,
                "window_days": check.window_days,
                "due_date": day(check.due_date),
                "result": check.result.label,
                "evidence": check.evidence,
                "checked_by": name_of(check.checked_by),
                "checked_at": when(check.checked_at),
            }
            for check in capa.checks
        ],
        signatures=[
            signature_data(row.signature, capa.reference, row.changed, row.purpose_label)
            for row in capa_services.signature_rows(capa)
        ],
        attachments=attachment_data(
            [
                (capa.reference, capa),
                *((f"Check: {check.criterion}", check) for check in capa.checks),
                *((f"Training: {training.topic}", training) for training in capa.trainings),
            ]
        ),
        history=history_data(events_of([capa, *capa.trainings, *capa.checks]), labels),
    )
    return Report(
        kind="capa",
        title=f"CAPA report {capa.reference}",
        template="capa.html",
        data=data,
        filters=filters,
        record_type="capa",
        record_id=str(capa.id),
        filename_stem=capa.reference,
        subject=f"{capa.reference}: {capa.title}",
        keywords=[capa.reference, *(nc.reference for nc in capa.nonconformities)],
    )
