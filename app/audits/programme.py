"""The programme view: a year's audits by process and month (planned, done, overdue), the
processes not audited within the programme's interval, and a risk flag for processes whose recent
failures say they should be audited sooner.

The risk flag: over the last 180 days a process is flagged when it has more than 1.5 times the
average process's count of high-RPN nonconformities (RPN 200 and above) or of complaints. A
flagged process is due after half the interval (6 months instead of 12)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.audits.models import Audit, AuditProgramme, AuditStatus, audit_process
from app.complaints.models import Complaint
from app.core.db import utcnow
from app.extensions import db
from app.nonconformities.models import Nonconformity
from app.organisation.models import Process

RISK_WINDOW_DAYS = 180
HIGH_RPN = 200
RISK_FACTOR = 1.5
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def audit_state(audit: Audit, today: date) -> str:
    """How the programme shows an audit: done (closed), cancelled, overdue (its planned end has
    passed and it is not closed), in progress (started, not yet past its end) or planned."""
    if audit.status == AuditStatus.CLOSED:
        return "done"
    if audit.status == AuditStatus.CANCELLED:
        return "cancelled"
    if audit.planned_end < today:
        return "overdue"
    if audit.status in (AuditStatus.IN_PROGRESS, AuditStatus.REPORTING):
        return "in progress"
    return "planned"


def months_before(day: date, months: int) -> date:
    """The same day `months` calendar months earlier (the month's last day where it is shorter)."""
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    for candidate in range(day.day, 0, -1):
        try:
            return date(year, month, candidate)
        except ValueError:
            continue
    raise ValueError(day)  # pragma: no cover - day 1 always exists


@dataclass
class ProcessRisk:
    high_rpn_ncs: int = 0
    complaints: int = 0
    flagged: bool = False


@dataclass
class ProcessRow:
    process: Process
    # Twelve months, each the (audit, state) pairs planned to start in it.
    months: list[list[tuple[Audit, str]]]
    last_audited: date | None
    interval_months: int
    overdue_for_audit: bool
    risk: ProcessRisk


@dataclass
class ProgrammeOverview:
    programme: AuditProgramme
    today: date
    rows: list[ProcessRow]
    # Audits whose scope names no process (sites or clauses only), by month as in the rows.
    other: list[list[tuple[Audit, str]]]
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def not_audited(self) -> list[ProcessRow]:
        return [row for row in self.rows if row.overdue_for_audit]


def _risk_by_process(today: date) -> dict[int, ProcessRisk]:
    since = utcnow() - timedelta(days=RISK_WINDOW_DAYS)
    risks: dict[int, ProcessRisk] = defaultdict(ProcessRisk)
    for process_id, number in db.session.execute(
        select(Nonconformity.process_id, func.count())
        .where(
            Nonconformity.process_id.is_not(None),
            Nonconformity.detected_at >= since,
            Nonconformity.rpn >= HIGH_RPN,
        )
        .group_by(Nonconformity.process_id)
    ):
        risks[process_id].high_rpn_ncs = number
    for process_id, number in db.session.execute(
        select(Complaint.process_id, func.count())
        .where(Complaint.process_id.is_not(None), Complaint.received_at >= since)
        .group_by(Complaint.process_id)
    ):
        risks[process_id].complaints = number
    return risks


def _last_audited(today: date) -> dict[int, date]:
    """Per process, the end of its latest closed audit."""
    return {
        process_id: last
        for process_id, last in db.session.execute(
            select(audit_process.c.process_id, func.max(Audit.planned_end))
            .join(Audit, Audit.id == audit_process.c.audit_id)
            .where(Audit.status == AuditStatus.CLOSED, Audit.planned_end <= today)
            .group_by(audit_process.c.process_id)
        )
    }


def programme_overview(programme: AuditProgramme, today: date | None = None) -> ProgrammeOverview:
    """The programme table for `programme` as of `today` (default: today, UTC)."""
    today = today or utcnow().date()
    processes = list(
        db.session.scalars(select(Process).where(Process.active.is_(True)).order_by(Process.name))
    )
    audits = list(
        db.session.scalars(
            select(Audit)
            .where(Audit.programme_id == programme.id)
            .options(selectinload(Audit.processes))
            .order_by(Audit.planned_start, Audit.id)
        )
    )
    risks = _risk_by_process(today)
    active_risks = [risks.get(process.id, ProcessRisk()) for process in processes]
    if active_risks:
        mean_ncs = sum(risk.high_rpn_ncs for risk in active_risks) / len(active_risks)
        mean_complaints = sum(risk.complaints for risk in active_risks) / len(active_risks)
    else:
        mean_ncs = mean_complaints = 0.0
    last = _last_audited(today)
    by_process: dict[int, list[list[tuple[Audit, str]]]] = {
        process.id: [[] for _ in MONTHS] for process in processes
    }
    other: list[list[tuple[Audit, str]]] = [[] for _ in MONTHS]
    counts = {"planned": 0, "in progress": 0, "done": 0, "overdue": 0, "cancelled": 0}
    for audit in audits:
        state = audit_state(audit, today)
        counts[state] += 1
        month = audit.planned_start.month - 1
        placed = False
        for process in audit.processes:
            if process.id in by_process:
                by_process[process.id][month].append((audit, state))
                placed = True
        if not placed:
            other[month].append((audit, state))
    rows = []
    for process in processes:
        risk = risks.get(process.id, ProcessRisk())
        risk.flagged = (risk.high_rpn_ncs > 0 and risk.high_rpn_ncs > RISK_FACTOR * mean_ncs) or (
            risk.complaints > 0 and risk.complaints > RISK_FACTOR * mean_complaints
        )
        interval = (
            max(1, programme.interval_months // 2) if risk.flagged else programme.interval_months
        )
        last_audited = last.get(process.id)
        rows.append(
            ProcessRow(
                process=process,
                months=by_process[process.id],
                last_audited=last_audited,
                interval_months=interval,
                overdue_for_audit=last_audited is None
                or last_audited < months_before(today, interval),
                risk=risk,
            )
        )
    return ProgrammeOverview(
        programme=programme, today=today, rows=rows, other=other, counts=counts
    )
