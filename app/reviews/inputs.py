"""The inputs of a management review (ISO 9001:2015 clause 9.3.2), collected for its period.

The figures are the quality review pack's (`reports.quality_review.gather_quality_review`): its
KPIs, charts, nonconformities by risk, open CAPAs, recurrence signals and objectives, so there is
one way to gather them. Added here are what the pack does not hold: the open actions of earlier
reviews (the first input), complaints and nonconformities per process, effectiveness checks
decided in the period, and the internal audits closed in the period with their findings.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select

from app.audits.models import Audit, AuditStatus
from app.capa.models import CapaStatus, CheckResult, EffectivenessCheck
from app.complaints.models import Complaint
from app.extensions import db
from app.nonconformities.models import Nonconformity
from app.organisation.models import Process
from app.reviews.models import ManagementReview, OutputKind, ReviewOutput
from reports.base import day, name_of
from reports.quality_review import ReviewPeriod, gather_quality_review

# Which of the pack's KPIs each input section shows.
CUSTOMER_KPIS = (
    "complaints",
    "response_median_hours",
    "resolution_median_days",
    "first_contact_resolution_rate",
    "escalation_rate",
    "timely_response_rate",
    "dispute_rate",
    "csat_mean",
    "retention_rate",
)
QUALITY_KPIS = (
    "high_rpn_nonconformities",
    "capa_on_time_rate",
    "capa_effectiveness_rate",
    "recurrence_rate",
)
COST_KPIS = ("cost_of_poor_quality",)

# The sections of the inputs, in the order of the minutes (ISO 9001:2015 9.3.2).
SECTIONS = (
    ("previous_actions", "Status of actions from previous management reviews"),
    ("customer", "Customer satisfaction and complaints"),
    ("objectives", "Quality objectives and goals"),
    ("processes", "Process performance"),
    ("nonconformities", "Nonconformities and corrective actions"),
    ("audits", "Internal audit results"),
    ("recurrence", "Recurrence signals"),
    ("cost", "Cost of poor quality"),
    ("external_issues", "Changes in external and internal issues"),
    ("resources", "Adequacy of resources"),
    ("risk_actions", "Effectiveness of actions on risks and opportunities"),
    ("improvement_opportunities", "Opportunities for improvement"),
)
FREE_TEXT_SECTIONS = ("external_issues", "resources", "risk_actions", "improvement_opportunities")


def is_open_action(output: ReviewOutput) -> bool:
    if output.kind != OutputKind.ACTION or output.done_at is not None:
        return False
    return output.capa is None or output.capa.status != CapaStatus.CLOSED


def open_actions_before(review: ManagementReview) -> list[ReviewOutput]:
    """The open actions of reviews held before `review` (not done, and any CAPA not closed)."""
    statement = (
        select(ReviewOutput)
        .join(ManagementReview, ManagementReview.id == ReviewOutput.review_id)
        .where(ReviewOutput.kind == OutputKind.ACTION, ReviewOutput.done_at.is_(None))
        .order_by(ManagementReview.meeting_date, ReviewOutput.number)
    )
    if review.id is not None:
        statement = statement.where(ManagementReview.id != review.id)
    statement = statement.where(ManagementReview.meeting_date <= review.meeting_date)
    return [output for output in db.session.scalars(statement) if is_open_action(output)]


def _action_row(output: ReviewOutput, as_of: Any) -> dict[str, Any]:
    return {
        "reference": output.reference,
        "text": output.text,
        "owner": name_of(output.owner),
        "due_date": day(output.due_date),
        "overdue": output.due_date is not None and output.due_date < as_of,
        "capa": output.capa.reference if output.capa else None,
        "capa_status": output.capa.status.label if output.capa else None,
    }


def _per_process(start: datetime, end: datetime) -> list[dict[str, Any]]:
    complaints = dict(
        db.session.execute(
            select(Complaint.process_id, func.count())
            .where(Complaint.received_at >= start, Complaint.received_at < end)
            .group_by(Complaint.process_id)
        ).all()
    )
    ncs = dict(
        db.session.execute(
            select(Nonconformity.process_id, func.count())
            .where(Nonconformity.detected_at >= start, Nonconformity.detected_at < end)
            .group_by(Nonconformity.process_id)
        ).all()
    )
    rows = []
    for process in db.session.scalars(select(Process).order_by(Process.name)):
        if process.active or complaints.get(process.id) or ncs.get(process.id):
            rows.append(
                {
                    "process": process.name,
                    "complaints": int(complaints.get(process.id, 0)),
                    "nonconformities": int(ncs.get(process.id, 0)),
                }
            )
    return rows


def _checks_decided(start: datetime, end: datetime) -> dict[str, int]:
    results = Counter(
        db.session.scalars(
            select(EffectivenessCheck.result).where(
                EffectivenessCheck.checked_at >= start, EffectivenessCheck.checked_at < end
            )
        )
    )
    return {
        "passed": results.get(CheckResult.PASSED, 0),
        "failed": results.get(CheckResult.FAILED, 0),
    }


def _audits(period: ReviewPeriod) -> list[dict[str, Any]]:
    audits = db.session.scalars(
        select(Audit)
        .where(
            Audit.status == AuditStatus.CLOSED,
            Audit.planned_end >= period.first,
            Audit.planned_end <= period.last,
        )
        .order_by(Audit.planned_end, Audit.id)
    )
    rows = []
    for audit in audits:
        kinds = Counter(finding.kind.label for finding in audit.findings)
        rows.append(
            {
                "reference": audit.reference,
                "title": audit.title,
                "ended": day(audit.planned_end),
                "lead_auditor": audit.lead_auditor.full_name,
                "findings": dict(sorted(kinds.items())),
                "nonconformities": [
                    finding.nonconformity.reference
                    for finding in audit.findings
                    if finding.nonconformity
                ],
                "conclusion": audit.conclusion,
            }
        )
    return rows


def collect_inputs(review: ManagementReview, today: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The review's inputs as JSON data, and the pack's charts (SVG by name)."""
    period = ReviewPeriod(review.period_start, review.period_end)
    pack = gather_quality_review(period, today)
    start = datetime.combine(period.first, time.min, tzinfo=UTC)
    end = datetime.combine(period.last + timedelta(days=1), time.min, tzinfo=UTC)
    kpis = {kpi["key"]: kpi for kpi in pack.data["kpis"]}
    as_of = min(period.last, today)
    inputs = {
        "period": pack.data["period"],
        "pack_report": {"title": pack.title, "data_sha256": pack.data_sha256()},
        "previous_actions": [_action_row(output, as_of) for output in open_actions_before(review)],
        "customer": {
            "kpis": [kpis[key] for key in CUSTOMER_KPIS if key in kpis],
            "complaint_categories": pack.data["complaint_categories"],
        },
        "objectives": pack.data["objectives"],
        "processes": {
            "per_process": _per_process(start, end),
            "weekly_complaints": pack.data["weekly_complaints"],
        },
        "nonconformities": {
            "kpis": [kpis[key] for key in QUALITY_KPIS if key in kpis],
            "by_rpn": pack.data["nonconformities_by_rpn"],
            "open_capas": pack.data["open_capas"],
            "overdue_capas": pack.data["overdue_capas"],
            "checks_decided": _checks_decided(start, end),
            "root_cause_categories": pack.data["root_cause_categories"],
        },
        "audits": _audits(period),
        "recurrence": pack.data["recurrence_signals"],
        "cost": {"kpis": [kpis[key] for key in COST_KPIS if key in kpis]},
    }
    return inputs, dict(pack.charts)
