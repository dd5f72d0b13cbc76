"""The internal-audit workflow: planned → in_preparation → in_progress → reporting → closed, or
cancelled with a reason.

Guards: nobody on the audit team may audit a process they own, unless a quality lead recorded a
justified exception covering exactly that conflict; the report stage needs every checklist
question answered; closing needs a conclusion and a nonconformity raised for every major finding.
Closed and cancelled audits are read-only. Quality leads fire every transition; the lead auditor
and team members may start the audit and move it to reporting (auditor-role users never act)."""

from __future__ import annotations

from typing import Any

from app.audits.models import Audit, AuditStatus, FindingKind
from app.core.db import utcnow
from app.core.permissions import Permission, Role
from app.core.workflow import Workflow, transition

S = AuditStatus


def independence_conflicts(audit: Audit) -> list[str]:
    """Each "<auditor> owns the process <process>" for a lead auditor or team member who owns a
    process in the audit's scope, in a stable order."""
    people = {audit.lead_auditor_id: audit.lead_auditor}
    for member in audit.team:
        people.setdefault(member.id, member)
    conflicts = []
    for process in audit.processes:
        owner = people.get(process.owner_id) if process.owner_id is not None else None
        if owner is not None:
            conflicts.append(f"{owner.full_name} owns the process {process.name}")
    return sorted(conflicts)


def unexcepted_conflicts(audit: Audit) -> list[str]:
    """The independence conflicts no recorded exception covers."""
    excepted = set(filter(None, (audit.independence_conflicts or "").splitlines()))
    return [item for item in independence_conflicts(audit) if item not in excepted]


def independence_refusal(audit: Audit) -> str | None:
    conflicts = unexcepted_conflicts(audit)
    if not conflicts:
        return None
    return (
        f"Auditors may not audit their own work: {'; '.join(conflicts)}. Choose another "
        "auditor, or have a quality lead record a justified exception."
    )


def _needs_checklist(audit: Audit) -> str | None:
    if not audit.questions:
        return "Add a checklist to the audit first."
    return None


def _needs_answers(audit: Audit) -> str | None:
    if not audit.questions:
        return "Add a checklist to the audit first."
    unanswered = sum(1 for question in audit.questions if question.answer is None)
    if unanswered:
        return f"Answer every checklist question first ({unanswered} unanswered)."
    return None


def majors_without_nonconformity(audit: Audit) -> list[str]:
    return [
        finding.reference
        for finding in audit.findings
        if finding.kind == FindingKind.MAJOR and finding.nonconformity_id is None
    ]


def _needs_ncs_for_majors(audit: Audit) -> str | None:
    missing = majors_without_nonconformity(audit)
    if missing:
        return (
            "The audit cannot close while a major finding has no nonconformity: "
            f"{', '.join(missing)}. Raise its nonconformity first."
        )
    return None


def _needs_conclusion(audit: Audit) -> str | None:
    if not audit.conclusion.strip():
        return "Write the audit's conclusion first."
    return None


def _stamp_start(audit: Audit, user: Any, previous: str) -> None:
    audit.started_at = utcnow()


def _stamp_reporting(audit: Audit, user: Any, previous: str) -> None:
    audit.reporting_at = utcnow()


def _stamp_closure(audit: Audit, user: Any, previous: str) -> None:
    audit.closed_at = utcnow()


def auditors_of(audit: Audit) -> list[int]:
    """The lead auditor and team members who may record the audit's work: anyone named, except
    auditor-role users (they read everything and change nothing)."""
    people = [audit.lead_auditor, *audit.team]
    return [person.id for person in people if person is not None and person.role != Role.AUDITOR]


AUDIT_WORKFLOW: Workflow[Audit] = Workflow(
    record_label="audit",
    states=tuple(status.value for status in AuditStatus),
    initial=S.PLANNED,
    assignee_of=auditors_of,
    locked_states=frozenset({S.CLOSED, S.CANCELLED}),
    transitions=(
        transition(
            "prepare",
            "Start preparation",
            S.PLANNED,
            S.IN_PREPARATION,
            Permission.RECORDS_MANAGE,
            assignee_may=True,
            guards=[independence_refusal],
        ),
        transition(
            "start",
            "Start the audit",
            S.IN_PREPARATION,
            S.IN_PROGRESS,
            Permission.RECORDS_MANAGE,
            assignee_may=True,
            guards=[independence_refusal, _needs_checklist],
            effects=[_stamp_start],
        ),
        transition(
            "report",
            "Move to reporting",
            S.IN_PROGRESS,
            S.REPORTING,
            Permission.RECORDS_MANAGE,
            assignee_may=True,
            guards=[_needs_answers],
            effects=[_stamp_reporting],
        ),
        transition(
            "close",
            "Close the audit",
            S.REPORTING,
            S.CLOSED,
            Permission.RECORDS_MANAGE,
            guards=[_needs_conclusion, _needs_ncs_for_majors],
            effects=[_stamp_closure],
        ),
        transition(
            "cancel",
            "Cancel",
            [S.PLANNED, S.IN_PREPARATION, S.IN_PROGRESS, S.REPORTING],
            S.CANCELLED,
            Permission.RECORDS_MANAGE,
            requires_reason=True,
        ),
    ),
)
