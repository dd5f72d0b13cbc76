"""The audit-reminders job: lead auditors hear of audits starting within N days and of reports
overdue N days after the audit's planned end, in the app and by e-mail, once per audit and kind
(the notification's dedupe key carries the audit and the kind)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.audits.models import Audit, AuditStatus
from app.core.db import utcnow
from app.extensions import db
from app.notifications.services import notify
from app.scheduler.registry import JobContext, JobDefinition, JobSetting, register_job

NOT_STARTED = (AuditStatus.PLANNED, AuditStatus.IN_PREPARATION)
NOT_REPORTED = (AuditStatus.IN_PREPARATION, AuditStatus.IN_PROGRESS, AuditStatus.REPORTING)
DEFAULT_DAYS_AHEAD = 7
DEFAULT_REPORT_DAYS = 14


def _remind(audit: Audit, kind: str, subject: str, body: str) -> bool:
    lead = audit.lead_auditor
    if lead is None or not lead.active:
        return False
    created = notify(
        lead,
        kind=kind,
        subject=subject,
        body=body,
        link=f"/audits/{audit.reference}",
        dedupe_key=f"audit-reminder:{kind}:{audit.id}",
    )
    return created is not None


def send_audit_reminders(
    as_of: datetime | None = None,
    days_ahead: int = DEFAULT_DAYS_AHEAD,
    report_days: int = DEFAULT_REPORT_DAYS,
) -> dict[str, int]:
    """Remind lead auditors of audits (not yet started) whose planned start is within
    `days_ahead` days of `as_of`'s day, and of audits not closed `report_days` days after their
    planned end (the report is overdue). Each audit reminds once per kind."""
    today = (as_of or utcnow()).date()
    counts = {"starting_soon": 0, "reports_overdue": 0, "already_reminded": 0}
    starting = db.session.scalars(
        select(Audit)
        .options(joinedload(Audit.lead_auditor))
        .where(
            Audit.status.in_(NOT_STARTED),
            Audit.planned_start >= today,
            Audit.planned_start <= today + timedelta(days=days_ahead),
        )
        .order_by(Audit.id)
    )
    for audit in starting:
        sent = _remind(
            audit,
            "audit_starting",
            f"Audit {audit.reference} starts {audit.planned_start:%Y-%m-%d}",
            f"You lead the internal audit {audit.reference} “{audit.title}”, planned "
            f"{audit.planned_start:%Y-%m-%d} to {audit.planned_end:%Y-%m-%d}. Prepare its "
            "checklist and team.",
        )
        counts["starting_soon" if sent else "already_reminded"] += 1
    overdue = db.session.scalars(
        select(Audit)
        .options(joinedload(Audit.lead_auditor))
        .where(
            Audit.status.in_(NOT_REPORTED),
            Audit.planned_end < today - timedelta(days=report_days),
        )
        .order_by(Audit.id)
    )
    for audit in overdue:
        sent = _remind(
            audit,
            "audit_report_overdue",
            f"Audit report overdue: {audit.reference}",
            f"The internal audit {audit.reference} “{audit.title}” ended "
            f"{audit.planned_end:%Y-%m-%d} and is still {audit.status.label.lower()}: its "
            f"report was due within {report_days} days.",
        )
        counts["reports_overdue" if sent else "already_reminded"] += 1
    return counts


def _run(context: JobContext) -> dict[str, int]:
    return send_audit_reminders(
        context.as_of,
        int(context.settings["days_ahead"]),
        int(context.settings["report_days"]),
    )


AUDIT_REMINDERS = register_job(
    JobDefinition(
        name="audit-reminders",
        title="Internal audit reminders",
        description=(
            "Reminds lead auditors of audits starting within the next days and of audit reports "
            "overdue after the audit's planned end, in the app and by e-mail, once per audit "
            "and reminder."
        ),
        default_cron="0 6 * * *",
        run=_run,
        settings=(
            JobSetting(
                "days_ahead",
                "Remind of audits starting within (days)",
                DEFAULT_DAYS_AHEAD,
                1,
                90,
            ),
            JobSetting(
                "report_days",
                "Report overdue after the planned end (days)",
                DEFAULT_REPORT_DAYS,
                0,
                180,
            ),
        ),
    )
)
