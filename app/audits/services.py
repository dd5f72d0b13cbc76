"""Internal audits: standards and clauses, checklist templates, the yearly programme, planning an
audit (scope, team, dates, auditor independence), its checklist and answers, findings and the
nonconformities they raise, and the workflow.

Services take plain values, check the rules, change records and flush; they never commit. A
refusal is a `ServiceError` naming the field at fault (`NotPermitted` when the user may not make
the change at all); after one, the caller rolls the session back before using it again. A `user`
of None is a trusted system caller (demo data) that has already decided.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.accounts.services import sign_record, signatures_of
from app.audits.models import (
    Answer,
    Audit,
    AuditProgramme,
    AuditQuestion,
    AuditStatus,
    ChecklistQuestion,
    ChecklistTemplate,
    Clause,
    Finding,
    FindingKind,
    Standard,
)
from app.audits.workflow import (
    AUDIT_WORKFLOW,
    auditors_of,
    independence_conflicts,
    independence_refusal,
    unexcepted_conflicts,
)
from app.core.audit import audit_reason
from app.core.db import ensure_current_version, flush_or_refuse_stale, utcnow
from app.core.errors import NotPermitted, ServiceError
from app.core.permissions import Permission, Role, role_can
from app.core.references import next_reference
from app.core.signatures import Signature, SignatureMeaning
from app.core.validation import checked_choice, checked_text
from app.core.workflow import TransitionRefused
from app.extensions import db
from app.nonconformities import services as nc_services
from app.nonconformities.models import Nonconformity, NonconformitySource
from app.organisation.models import Process, Site

TITLE_MAX_LENGTH = 200
TEXT_MAX_LENGTH = 10_000
REASON_MAX_LENGTH = 2_000
CODE_MAX_LENGTH = 60
CLAUSE_NUMBER_MAX_LENGTH = 20
REFERENCE_PREFIX = "AUD"

# The ratings a nonconformity raised from a finding starts with (the quality lead refines them on
# the nonconformity): a major finding lands in the high RPN band (8 × 5 × 5 = 200), a minor one
# in the low band (5 × 4 × 4 = 80).
FINDING_RATINGS = {
    FindingKind.MAJOR: {"severity": 8, "occurrence": 5, "detection": 5},
    FindingKind.MINOR: {"severity": 5, "occurrence": 4, "detection": 4},
}
# Answers and findings are recorded while the audit is under way (findings also while reporting).
ANSWERING_STATES = frozenset({AuditStatus.IN_PROGRESS})
FINDING_STATES = frozenset({AuditStatus.IN_PROGRESS, AuditStatus.REPORTING})
CHECKLIST_STATES = frozenset(
    {AuditStatus.PLANNED, AuditStatus.IN_PREPARATION, AuditStatus.IN_PROGRESS}
)
PLANNING_STATES = frozenset({AuditStatus.PLANNED, AuditStatus.IN_PREPARATION})


# --- who may do what -------------------------------------------------------------------------


def may_plan(user: Any) -> bool:
    """Quality leads plan programmes and audits, keep standards and checklist templates."""
    return user is not None and role_can(user.role, Permission.RECORDS_MANAGE)


def may_record(user: Any, audit: Audit) -> bool:
    """Whether `user` may record the audit's checklist answers and findings: a quality lead, or
    the audit's lead auditor or a team member whatever their role, but never an auditor-role
    user (they read everything and change nothing)."""
    if user is None or not getattr(user, "is_authenticated", True):
        return False
    if user.role == Role.AUDITOR:
        return False
    return may_plan(user) or user.id in auditors_of(audit)


def _require_plan(user: Any, what: str) -> None:
    if user is not None and not may_plan(user):
        raise NotPermitted(f"Only a quality lead may {what}.")


def _require_record(user: Any, audit: Audit) -> None:
    if user is not None and not may_record(user, audit):
        raise NotPermitted(
            f"Only a quality lead, the lead auditor or a team member may record the work of "
            f"{audit.reference}."
        )


def is_read_only(audit: Audit) -> bool:
    return AUDIT_WORKFLOW.is_locked(audit)


# --- reading ---------------------------------------------------------------------------------


def get_by_reference(reference: str) -> Audit | None:
    return db.session.scalar(select(Audit).where(Audit.reference == reference.strip().upper()))


def get_programme(year: int) -> AuditProgramme | None:
    return db.session.scalar(select(AuditProgramme).where(AuditProgramme.year == year))


def programmes() -> list[AuditProgramme]:
    return list(db.session.scalars(select(AuditProgramme).order_by(AuditProgramme.year.desc())))


def standards() -> list[Standard]:
    return list(
        db.session.scalars(
            select(Standard).options(selectinload(Standard.clauses)).order_by(Standard.id)
        )
    )


def all_clauses() -> list[Clause]:
    return list(
        db.session.scalars(
            select(Clause)
            .join(Standard)
            .options(selectinload(Clause.standard))
            .order_by(Standard.id, Clause.position)
        )
    )


def templates(active_only: bool = False) -> list[ChecklistTemplate]:
    statement = select(ChecklistTemplate).options(
        selectinload(ChecklistTemplate.questions).selectinload(ChecklistQuestion.clause)
    )
    if active_only:
        statement = statement.where(ChecklistTemplate.active.is_(True))
    return list(db.session.scalars(statement.order_by(ChecklistTemplate.name)))


def selectable_auditors(current_ids: Iterable[int] = ()) -> list[User]:
    """Users who may be named lead auditor or team member: active quality leads, contributors
    and auditors (auditor-role users are named but only read), plus those already named."""
    condition = (User.active.is_(True)) & User.role.in_(
        [Role.QUALITY_LEAD, Role.CONTRIBUTOR, Role.AUDITOR]
    )
    current = list(current_ids)
    if current:
        condition = or_(condition, User.id.in_(current))
    return list(db.session.scalars(select(User).where(condition).order_by(User.full_name)))


def selectable_processes() -> list[Process]:
    return list(
        db.session.scalars(select(Process).where(Process.active.is_(True)).order_by(Process.name))
    )


def selectable_sites() -> list[Site]:
    return list(db.session.scalars(select(Site).where(Site.active.is_(True)).order_by(Site.name)))


def _clause(clause_id: Any, field: str = "clause_id", required: bool = True) -> Clause | None:
    if clause_id in (None, ""):
        if required:
            raise ServiceError("Choose the clause the question checks.", field=field)
        return None
    clause = db.session.get(Clause, int(clause_id))
    if clause is None:
        raise ServiceError("The chosen clause does not exist.", field=field)
    return clause


# --- the programme ---------------------------------------------------------------------------


def create_programme(
    year: Any,
    title: str = "",
    objectives: str = "",
    interval_months: Any = 12,
    *,
    user: User | None = None,
) -> AuditProgramme:
    """The audit programme of one calendar year (one per year). The interval is how often every
    process should be audited (1–60 months, default 12)."""
    _require_plan(user, "plan audit programmes")
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise ServiceError("The year must be a number such as 2026.", field="year") from None
    if not 2000 <= year <= 2100:
        raise ServiceError("The year must lie between 2000 and 2100.", field="year")
    try:
        interval = int(interval_months)
    except (TypeError, ValueError):
        raise ServiceError(
            "The interval must be a whole number of months.", field="interval_months"
        ) from None
    if not 1 <= interval <= 60:
        raise ServiceError("The interval must be 1 to 60 months.", field="interval_months")
    if get_programme(year) is not None:
        raise ServiceError(f"There is already an audit programme for {year}.", field="year")
    programme = AuditProgramme(
        year=year,
        title=checked_text(title, "A title", "title", TITLE_MAX_LENGTH, False)
        or f"Internal audit programme {year}",
        objectives=checked_text(objectives, "The objectives", "objectives", TEXT_MAX_LENGTH, False),
        interval_months=interval,
    )
    db.session.add(programme)
    db.session.flush()
    return programme


# --- planning an audit -----------------------------------------------------------------------


def _checked_dates(programme: AuditProgramme | None, start: date | None, end: date | None) -> None:
    if programme is None:
        raise ServiceError("The audit programme does not exist.")
    if start is None:
        raise ServiceError("The planned start date is required.", field="planned_start")
    if end is None:
        raise ServiceError("The planned end date is required.", field="planned_end")
    if end < start:
        raise ServiceError(
            f"The planned end ({end:%Y-%m-%d}) cannot be before the start ({start:%Y-%m-%d}).",
            field="planned_end",
        )
    if start.year != programme.year:
        raise ServiceError(
            f"The audit must start in {programme.year}, the programme's year.",
            field="planned_start",
        )


def _checked_people(lead_auditor_id: Any, team_ids: Iterable[Any]) -> tuple[User, list[User]]:
    if lead_auditor_id in (None, ""):
        raise ServiceError("Choose the lead auditor.", field="lead_auditor_id")
    lead = db.session.get(User, int(lead_auditor_id))
    if lead is None:
        raise ServiceError("The chosen lead auditor does not exist.", field="lead_auditor_id")
    wanted = sorted({int(ident) for ident in team_ids if ident not in (None, "")} - {lead.id})
    team = list(db.session.scalars(select(User).where(User.id.in_(wanted)))) if wanted else []
    if len(team) != len(wanted):
        raise ServiceError("A chosen team member does not exist.", field="team_ids")
    for person, field in [(lead, "lead_auditor_id"), *((member, "team_ids") for member in team)]:
        if not person.active:
            raise ServiceError(f"{person.full_name} is deactivated.", field=field)
        if person.role == Role.ADMIN:
            raise ServiceError(
                f"{person.full_name} is an administrator and cannot audit.", field=field
            )
    return lead, team


def _records(model: type, ids: Iterable[Any], label: str, field: str) -> list[Any]:
    wanted = sorted({int(ident) for ident in ids if ident not in (None, "")})
    if not wanted:
        return []
    found = list(db.session.scalars(select(model).where(model.id.in_(wanted))))
    if len(found) != len(wanted):
        raise ServiceError(f"A chosen {label} does not exist.", field=field)
    return found


def _apply_plan(
    audit: Audit,
    *,
    title: str,
    scope: str,
    criteria: str,
    planned_start: date | None,
    planned_end: date | None,
    lead_auditor_id: Any,
    team_ids: Iterable[Any],
    process_ids: Iterable[Any],
    site_ids: Iterable[Any],
    clause_ids: Iterable[Any],
    independence_justification: str,
    user: User | None,
) -> None:
    title = checked_text(title, "A title", "title", TITLE_MAX_LENGTH, required=True)
    _checked_dates(db.session.get(AuditProgramme, audit.programme_id), planned_start, planned_end)
    lead, team = _checked_people(lead_auditor_id, team_ids)
    processes = _records(Process, process_ids, "process", "process_ids")
    sites = _records(Site, site_ids, "site", "site_ids")
    clauses = _records(Clause, clause_ids, "clause", "clause_ids")
    if not (processes or sites or clauses):
        raise ServiceError(
            "Name the audit's scope: at least one process, site or clause.", field="process_ids"
        )
    audit.title = title
    audit.scope = checked_text(scope, "The scope", "scope", TEXT_MAX_LENGTH, False)
    audit.criteria = checked_text(criteria, "The criteria", "criteria", TEXT_MAX_LENGTH, False)
    audit.planned_start = planned_start  # type: ignore[assignment]
    audit.planned_end = planned_end  # type: ignore[assignment]
    audit.lead_auditor = lead
    audit.lead_auditor_id = lead.id
    audit.team = team
    audit.processes = processes
    audit.sites = sites
    audit.clauses = clauses
    justification = checked_text(
        independence_justification,
        "The justification",
        "independence_justification",
        REASON_MAX_LENGTH,
        False,
    )
    if unexcepted_conflicts(audit):
        if not justification:
            raise ServiceError(independence_refusal(audit) or "", field="lead_auditor_id")
        _except_conflicts(audit, justification, user)


def _except_conflicts(audit: Audit, justification: str, user: User | None) -> None:
    if user is not None and not may_plan(user):
        raise NotPermitted("Only a quality lead may record an exception to auditor independence.")
    audit.independence_exception = justification
    audit.independence_conflicts = "\n".join(independence_conflicts(audit))


def plan_audit(
    programme: AuditProgramme,
    *,
    title: str,
    planned_start: date | None,
    planned_end: date | None,
    lead_auditor_id: Any,
    team_ids: Iterable[Any] = (),
    process_ids: Iterable[Any] = (),
    site_ids: Iterable[Any] = (),
    clause_ids: Iterable[Any] = (),
    scope: str = "",
    criteria: str = "",
    independence_justification: str = "",
    user: User | None = None,
) -> Audit:
    """Plan an audit in `programme` (status planned, reference AUD-<year>-<6 digits>).

    The dates must be in order and start in the programme's year; the scope names at least one
    process, site or clause. A lead auditor or team member who owns a process in scope is refused
    unless `independence_justification` is given by a quality lead: it is kept on the audit as
    the exception, in the audit trail, and covers exactly the conflicts it was given for."""
    _require_plan(user, "plan audits")
    # Not in the session (nor in the programme's list) until every check has passed, so that a
    # refused plan leaves nothing behind to flush.
    audit = Audit(
        programme_id=programme.id,
        status=AuditStatus.PLANNED,
        conclusion="",
        independence_exception="",
        independence_conflicts="",
        cancel_reason="",
    )
    with db.session.no_autoflush:
        _apply_plan(
            audit,
            title=title,
            scope=scope,
            criteria=criteria,
            planned_start=planned_start,
            planned_end=planned_end,
            lead_auditor_id=lead_auditor_id,
            team_ids=team_ids,
            process_ids=process_ids,
            site_ids=site_ids,
            clause_ids=clause_ids,
            independence_justification=independence_justification,
            user=user,
        )
    audit.reference = next_reference(db.session, REFERENCE_PREFIX, programme.year)
    db.session.add(audit)
    with (
        audit_reason(audit.independence_exception)
        if audit.independence_exception
        else contextlib.nullcontext()
    ):
        db.session.flush()
    return audit


def update_audit(
    audit: Audit,
    *,
    title: str,
    planned_start: date | None,
    planned_end: date | None,
    lead_auditor_id: Any,
    team_ids: Iterable[Any] = (),
    process_ids: Iterable[Any] = (),
    site_ids: Iterable[Any] = (),
    clause_ids: Iterable[Any] = (),
    scope: str = "",
    criteria: str = "",
    independence_justification: str = "",
    expected_version: object,
    user: User | None = None,
) -> Audit:
    """Change the plan of an audit that has not started (planned or in preparation); the same
    rules as `plan_audit`. Refuses a stale form (StaleRecord)."""
    _require_plan(user, "change the plan of an audit")
    label = f"The audit {audit.reference}"
    ensure_current_version(audit, expected_version, label)
    AUDIT_WORKFLOW.refuse_if_locked(audit, "change its plan")
    if audit.status not in PLANNING_STATES:
        raise ServiceError(
            f"{audit.reference} is {audit.status.label.lower()}: its plan can no longer change."
        )
    with db.session.no_autoflush:
        _apply_plan(
            audit,
            title=title,
            scope=scope,
            criteria=criteria,
            planned_start=planned_start,
            planned_end=planned_end,
            lead_auditor_id=lead_auditor_id,
            team_ids=team_ids,
            process_ids=process_ids,
            site_ids=site_ids,
            clause_ids=clause_ids,
            independence_justification=independence_justification,
            user=user,
        )
    reason = independence_justification.strip() or None
    with audit_reason(reason) if reason else contextlib.nullcontext():
        flush_or_refuse_stale(db.session, label)
    return audit


def record_independence_exception(
    audit: Audit, justification: str, *, user: User | None = None
) -> Audit:
    """A quality lead's justified exception to auditor independence for the audit's current
    conflicts (written to the audit trail with the justification as its reason)."""
    if user is not None and not may_plan(user):
        raise NotPermitted("Only a quality lead may record an exception to auditor independence.")
    AUDIT_WORKFLOW.refuse_if_locked(audit, "record an exception")
    justification = checked_text(
        justification, "A justification", "independence_justification", REASON_MAX_LENGTH, True
    )
    if not independence_conflicts(audit):
        raise ServiceError(
            "No auditor on this audit owns a process in its scope: there is nothing to except.",
            field="independence_justification",
        )
    _except_conflicts(audit, justification, user)
    with audit_reason(justification):
        db.session.flush()
    return audit


# --- the checklist and its answers -----------------------------------------------------------


def add_checklist(
    audit: Audit, template_id: Any, *, user: User | None = None
) -> list[AuditQuestion]:
    """Copy a template's questions into the audit (before reporting). Later edits of the
    template leave the audit's copy alone; the same template cannot be added twice."""
    _require_record(user, audit)
    AUDIT_WORKFLOW.refuse_if_locked(audit, "add a checklist")
    if audit.status not in CHECKLIST_STATES:
        raise ServiceError(
            f"Checklists are added before reporting; {audit.reference} is "
            f"{audit.status.label.lower()}.",
            field="template_id",
        )
    if template_id in (None, ""):
        raise ServiceError("Choose a checklist template.", field="template_id")
    template = db.session.get(ChecklistTemplate, int(template_id))
    if template is None:
        raise ServiceError("The chosen checklist template does not exist.", field="template_id")
    if any(question.template_name == template.name for question in audit.questions):
        raise ServiceError(
            f"The checklist {template.name} is already on this audit.", field="template_id"
        )
    if not template.questions:
        raise ServiceError(f"The checklist {template.name} has no questions.", field="template_id")
    position = max((question.position for question in audit.questions), default=0)
    added = []
    for item in template.questions:
        position += 1
        question = AuditQuestion(
            audit=audit,
            position=position,
            template_name=template.name,
            text=item.text,
            clause_id=item.clause_id,
            evidence="",
        )
        db.session.add(question)
        added.append(question)
    db.session.flush()
    return added


def answer_question(
    question: AuditQuestion,
    answer: Any,
    evidence: str = "",
    *,
    expected_version: object = None,
    user: User | None = None,
) -> AuditQuestion:
    """Record an answer (conforming, nonconforming, observation, not applicable) and the
    evidence for one question, while the audit is in progress. A nonconforming answer needs
    evidence."""
    audit = question.audit
    _require_record(user, audit)
    AUDIT_WORKFLOW.refuse_if_locked(audit, "answer its checklist")
    if audit.status not in ANSWERING_STATES:
        raise ServiceError(
            f"Checklist answers are recorded while the audit is in progress; {audit.reference} "
            f"is {audit.status.label.lower()}.",
            field="answer",
        )
    label = f"The answer to question {question.position}"
    if expected_version is not None:
        ensure_current_version(question, expected_version, label)
    value = checked_choice(Answer, answer, "an answer", "answer")
    evidence = checked_text(evidence, "The evidence", "evidence", TEXT_MAX_LENGTH, False)
    if value == Answer.NONCONFORMING and not evidence:
        raise ServiceError("Note the evidence for a nonconforming answer.", field="evidence")
    question.answer = value
    question.evidence = evidence
    question.answered_by_id = user.id if user is not None else None
    question.answered_at = utcnow()
    flush_or_refuse_stale(db.session, label)
    return question


# --- findings and their nonconformities ------------------------------------------------------


def record_finding(
    audit: Audit,
    *,
    kind: Any,
    description: str,
    evidence: str = "",
    clause_id: Any = None,
    process_id: Any = None,
    question_id: Any = None,
    user: User | None = None,
) -> Finding:
    """Record a finding (major or minor nonconformity, observation, opportunity for improvement)
    while the audit is in progress or reporting. Its process, if given, must be in scope; its
    question must be one of the audit's."""
    _require_record(user, audit)
    AUDIT_WORKFLOW.refuse_if_locked(audit, "record findings")
    if audit.status not in FINDING_STATES:
        raise ServiceError(
            f"Findings are recorded while the audit is in progress or reporting; "
            f"{audit.reference} is {audit.status.label.lower()}."
        )
    finding_kind = checked_choice(FindingKind, kind, "the kind of finding", "kind")
    description = checked_text(description, "A description", "description", TEXT_MAX_LENGTH, True)
    process = None
    if process_id not in (None, ""):
        process = next((item for item in audit.processes if item.id == int(process_id)), None)
        if process is None:
            raise ServiceError("Choose a process in the audit's scope.", field="process_id")
    question = None
    if question_id not in (None, ""):
        question = next((item for item in audit.questions if item.id == int(question_id)), None)
        if question is None:
            raise ServiceError("Choose a question of this audit's checklist.", field="question_id")
    clause = _clause(clause_id, required=False)
    if clause is None and question is not None:
        clause = question.clause
    if process is None and len(audit.processes) == 1:
        process = audit.processes[0]
    finding = Finding(
        audit=audit,
        number=max((item.number for item in audit.findings), default=0) + 1,
        kind=finding_kind,
        description=description,
        evidence=checked_text(evidence, "The evidence", "evidence", TEXT_MAX_LENGTH, False),
        clause=clause,
        process=process,
        question=question,
        recorded_by_id=user.id if user is not None else None,
    )
    db.session.add(finding)
    db.session.flush()
    return finding


def nonconformity_prefill(finding: Finding) -> dict[str, Any]:
    """What a nonconformity raised from `finding` starts with: source internal audit, the
    finding's process, a title and description naming the audit, clause and evidence, ratings by
    the finding's kind, and the process owner as owner where they may own one."""
    clause = f" (clause {finding.clause.label})" if finding.clause else ""
    title = f"{finding.reference}: {finding.description.splitlines()[0]}"
    description = (
        f"{finding.kind.label} found in the internal audit {finding.audit.reference} "
        f"“{finding.audit.title}”{clause}.\n\n{finding.description}"
    )
    if finding.evidence:
        description += f"\n\nEvidence: {finding.evidence}"
    owner = finding.process.owner if finding.process else None
    owner_id = (
        owner.id
        if owner is not None and owner.active and role_can(owner.role, Permission.RECORDS_CREATE)
        else None
    )
    return {
        "title": title[: nc_services.TITLE_MAX_LENGTH],
        "description": description[: nc_services.DESCRIPTION_MAX_LENGTH],
        "source": NonconformitySource.INTERNAL_AUDIT,
        "process_id": finding.process_id,
        "owner_id": owner_id,
        **FINDING_RATINGS.get(finding.kind, FINDING_RATINGS[FindingKind.MINOR]),
    }


def raise_finding_nonconformity(
    finding: Finding, *, user: User | None = None, detected_at: datetime | None = None
) -> Nonconformity:
    """Raise the nonconformity for a major or minor finding in one step, pre-filled (see
    `nonconformity_prefill`), and link it to the finding: the finding shows its nonconformity and
    the nonconformity names the finding it came from. A finding raises one nonconformity."""
    audit = finding.audit
    _require_record(user, audit)
    AUDIT_WORKFLOW.refuse_if_locked(audit, "raise nonconformities from its findings")
    if not finding.kind.is_nonconformity:
        raise ServiceError(
            f"{finding.reference} is an {finding.kind.label.lower()}: only major and minor "
            "nonconformity findings raise a nonconformity."
        )
    if finding.nonconformity_id is not None:
        raise ServiceError(
            f"{finding.reference} already raised {finding.nonconformity.reference}."  # type: ignore[union-attr]
        )
    values = nonconformity_prefill(finding)
    nc = nc_services.raise_nonconformity(detected_at=detected_at or utcnow(), user=user, **values)
    finding.nonconformity = nc
    db.session.flush()
    return nc


# --- conclusion and workflow -----------------------------------------------------------------


def set_conclusion(
    audit: Audit, conclusion: str, *, expected_version: object, user: User | None = None
) -> Audit:
    """The audit's conclusion (in progress or reporting), printed in the report."""
    _require_record(user, audit)
    label = f"The audit {audit.reference}"
    ensure_current_version(audit, expected_version, label)
    AUDIT_WORKFLOW.refuse_if_locked(audit, "change its conclusion")
    if audit.status not in FINDING_STATES:
        raise ServiceError(
            "The conclusion is written while the audit is in progress or reporting.",
            field="conclusion",
        )
    audit.conclusion = checked_text(
        conclusion, "The conclusion", "conclusion", TEXT_MAX_LENGTH, True
    )
    flush_or_refuse_stale(db.session, label)
    return audit


def transition_audit(
    audit: Audit,
    name: str,
    user: User,
    reason: str | None = None,
    *,
    expected_version: object = None,
) -> Audit:
    """Fire workflow transition `name` (prepare, start, report, close, cancel) as `user` (demo
    data passes a quality lead too: the guards always apply). Cancelling needs a
    reason, kept on the audit. Refusals say why (TransitionRefused); a user who may not act gets
    NotPermitted; a form made from an older version gets StaleRecord."""
    item = AUDIT_WORKFLOW.get(name)
    if user.role == Role.AUDITOR:
        raise NotPermitted("Auditors read audits; they do not change them.")
    if AUDIT_WORKFLOW.state_of(audit) in item.sources and not AUDIT_WORKFLOW.may_act(
        item, user, audit
    ):
        raise NotPermitted(f"Your role may not “{item.label}” this audit.")
    if expected_version is not None:
        ensure_current_version(audit, expected_version, f"The audit {audit.reference}")
    refused = AUDIT_WORKFLOW.refusal(item, audit, user)
    if refused:
        raise TransitionRefused(refused)
    reason = checked_text(reason, "The reason", "reason", REASON_MAX_LENGTH, required=False)
    if name == "cancel":
        if not reason:
            raise ServiceError("A reason for cancelling is required.", field="reason")
        audit.cancel_reason = reason
    return AUDIT_WORKFLOW.fire(audit, name, user, reason=reason or None)


# --- the report's signatures -----------------------------------------------------------------

REPORT_PURPOSES = {
    "lead_auditor": "audit_report_lead_auditor",
    "quality_lead": "audit_report_quality_lead",
}
REPORT_SIGNER_LABELS = {"lead_auditor": "Lead auditor", "quality_lead": "Quality lead"}


def report_signers(audit: Audit) -> dict[str, Signature | None]:
    """The report's valid signature per part (lead auditor, quality lead), or None."""
    if audit.id is None:
        return dict.fromkeys(REPORT_PURPOSES)
    valid = [sig for sig in signatures_of(audit) if not sig.is_void]
    return {
        part: next((sig for sig in valid if sig.purpose == purpose), None)
        for part, purpose in REPORT_PURPOSES.items()
    }


def report_part_for(audit: Audit, user: Any) -> str | None:
    """Which signature of the report `user` may give now, or None: the lead auditor signs as lead
    auditor (whatever their role but auditor), then a quality lead other than the lead auditor
    signs as quality lead."""
    if user is None or audit.status != AuditStatus.CLOSED or user.role == Role.AUDITOR:
        return None
    signed = report_signers(audit)
    if user.id == audit.lead_auditor_id:
        return "lead_auditor" if signed["lead_auditor"] is None else None
    if role_can(user.role, Permission.RECORDS_SIGN) and signed["quality_lead"] is None:
        return "quality_lead"
    return None


def sign_report(audit: Audit, user: User, password: str, meaning: str = "approved") -> Signature:
    """Approve the closed audit's report under `user`'s electronic signature (meaning approved):
    the lead auditor's, then a quality lead's (not the lead auditor's). A wrong password signs
    nothing (ServiceError on "password")."""
    if audit.status != AuditStatus.CLOSED:
        raise ServiceError("The report is signed once the audit is closed.")
    if meaning != SignatureMeaning.APPROVED.value:
        raise ServiceError("The report's signatures mean “approved”.", field="meaning")
    part = report_part_for(audit, user)
    if part is None:
        signed = report_signers(audit)
        if user.id == audit.lead_auditor_id and signed["lead_auditor"] is not None:
            raise NotPermitted(
                "You signed this report as lead auditor; a quality lead other than the lead "
                "auditor signs it as quality lead."
            )
        raise NotPermitted(
            "The report is signed by its lead auditor and by a quality lead, once each."
        )
    return sign_record(
        audit,
        user,
        password,
        meaning,
        purpose=REPORT_PURPOSES[part],
        signer_named_by_record=part == "lead_auditor",
    )
