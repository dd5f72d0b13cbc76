"""CAPA: corrective and preventive actions, their effectiveness checks, and training (employee
recovery).

The functions take plain values, check the rules, change the records and flush; they never commit.
A refusal is a `ServiceError` naming the field at fault (`NotAllowed` when the user's role or
relation to the CAPA forbids the change: pages answer 403). After a refusal the caller rolls the
session back before using it again — except for the two signing services, which undo their own
changes so that a wrong password never leaves a half-made transition behind.

Who may do what:
- quality leads plan CAPAs and do everything else;
- the CAPA's owner (a contributor) may edit it, start and implement it, assign training and plan
  effectiveness checks (`may_edit`), but not record check results or sign;
- a staff member completes their own training; a quality lead may complete anyone's;
- auditors change nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, inspect, or_, select
from sqlalchemy.orm import joinedload, selectinload

from app.accounts.models import User
from app.accounts.services import sign_record, signatures_of
from app.capa.models import (
    Capa,
    CapaKind,
    CapaStatus,
    CheckMethod,
    CheckResult,
    EffectivenessCheck,
    RecoveryDimension,
    TrainingAssignment,
)
from app.capa.workflow import CAPA_WORKFLOW, effectiveness_not_before
from app.complaints.models import Complaint
from app.core.db import all_or_nothing, ensure_current_version, flush_or_refuse_stale, utcnow
from app.core.errors import ServiceError
from app.core.listing import apply_sort
from app.core.permissions import Permission, Role, role_can
from app.core.references import next_reference
from app.core.signatures import Signature, changed_after_signature, content_hash
from app.core.validation import checked_money, checked_text
from app.core.workflow import TransitionRefused
from app.extensions import db
from app.nonconformities.models import (
    Nonconformity,
    NonconformityStatus,
    complaint_nonconformity,
)
from app.organisation.models import Category, Process, TQMPrinciple
from app.rca.models import RootCause, RootCauseAnalysis

TITLE_MAX_LENGTH = 200
TOPIC_MAX_LENGTH = 200
TEXT_MAX_LENGTH = 10_000
# Numeric(12, 2): ten digits before the decimal point.
COST_LIMIT = Decimal("10000000000")
WINDOW_DAYS_MAX = 3650
MATCHES_SHOWN = 20
MY_WORK_LIMIT = 100

EFFECTIVENESS_PURPOSE = "capa_effectiveness"
CLOSURE_PURPOSE = "capa_closure"
PURPOSE_LABELS = {
    EFFECTIVENESS_PURPOSE: "Effectiveness verification",
    CLOSURE_PURPOSE: "Closure",
}
# Transitions that only happen with an electronic signature, through the signing services.
SIGNED_TRANSITIONS = frozenset({"mark_effective", "close", "close_ineffective"})
# "Done" for due dates: an effective CAPA awaits only its closure signature.
DONE_STATUSES = frozenset({CapaStatus.EFFECTIVE, CapaStatus.CLOSED})
# Effectiveness checks may be planned until the CAPA's effectiveness is decided.
CHECK_PLANNING_STATUSES = frozenset(
    {CapaStatus.PLANNED, CapaStatus.IN_PROGRESS, CapaStatus.IMPLEMENTED, CapaStatus.VERIFYING}
)
# Results are recorded once the action is in place.
CHECK_RESULT_STATUSES = frozenset({CapaStatus.IMPLEMENTED, CapaStatus.VERIFYING})
_LINKABLE_NC_STATUSES_EXCLUDED = frozenset(
    {NonconformityStatus.CLOSED, NonconformityStatus.CANCELLED}
)
_PEOPLE_ROLES = (Role.QUALITY_LEAD, Role.CONTRIBUTOR)


class NotAllowed(ServiceError):
    """The user's role, or their relation to the CAPA, does not allow this change."""


def today_utc() -> date:
    return utcnow().date()


# --- who may do what ---------------------------------------------------------------------------


def is_quality_lead(user: User | None) -> bool:
    return user is not None and role_can(user.role, Permission.RECORDS_MANAGE)


def may_edit(user: User | None, capa: Capa) -> bool:
    """Whether `user` may change `capa`: a quality lead, or the contributor who owns it."""
    if user is None or not getattr(user, "is_authenticated", True):
        return False
    if is_quality_lead(user):
        return True
    return (
        capa.owner_id is not None
        and capa.owner_id == user.id
        and role_can(user.role, Permission.RECORDS_CREATE)
    )


def _require_edit(user: User | None, capa: Capa, action: str) -> None:
    if not may_edit(user, capa):
        raise NotAllowed(f"Only a quality lead or the owner of {capa.reference} may {action}.")


def _require_quality_lead(user: User | None, action: str) -> None:
    if not is_quality_lead(user):
        raise NotAllowed(f"Only a quality lead may {action}.")


def _refuse_closed(capa: Capa, action: str = "change it") -> None:
    CAPA_WORKFLOW.refuse_if_locked(capa, action)


def is_read_only(capa: Capa) -> bool:
    """Whether the CAPA is closed: it, its checks and its trainings change only after a reopen."""
    return CAPA_WORKFLOW.is_locked(capa)


def is_overdue(capa: Capa, today: date | None = None) -> bool:
    """Overdue: the due date has passed and the CAPA is neither effective nor closed."""
    today = today or today_utc()
    return capa.due_date is not None and capa.due_date < today and capa.status not in DONE_STATUSES


def overdue_clause(today: date) -> ColumnElement[bool]:
    """`is_overdue` as a SQL condition, for every list, count and reminder that needs it."""
    return and_(Capa.due_date < today, Capa.status.not_in(DONE_STATUSES))


# --- checking input ----------------------------------------------------------------------------


def _checked_kind(kind: CapaKind | str | None) -> CapaKind:
    try:
        return CapaKind(kind)
    except ValueError:
        raise ServiceError("Choose correction, corrective or preventive.", field="kind") from None


def _checked_dimension(dimension: RecoveryDimension | str | None) -> RecoveryDimension:
    try:
        return RecoveryDimension(dimension)
    except ValueError:
        raise ServiceError(
            "Choose process or employee recovery.", field="recovery_dimension"
        ) from None


def assignable_people(current_id: int | None = None) -> list[User]:
    """People who may own a CAPA or receive training: active quality leads and contributors,
    plus `current_id` (the person already named) even if since deactivated."""
    condition = and_(User.active.is_(True), User.role.in_(_PEOPLE_ROLES))
    if current_id is not None:
        condition = or_(condition, User.id == current_id)
    return list(db.session.scalars(select(User).where(condition).order_by(User.full_name)))


def _checked_person(
    user_id: int | None, current_id: int | None, label: str, field_name: str
) -> User:
    if user_id is None:
        raise ServiceError(f"Choose the {label}.", field=field_name)
    person = db.session.get(User, user_id)
    if person is not None and user_id == current_id:
        return person  # already named: may stay even if since deactivated
    if person is None or not person.active or person.role not in _PEOPLE_ROLES:
        raise ServiceError(
            f"The {label} must be an active quality lead or contributor.", field=field_name
        )
    return person


def _checked_date(
    value: date | None, label: str, field_name: str, today: date, unchanged: date | None = None
) -> date:
    if value is None:
        raise ServiceError(f"{label} is required.", field=field_name)
    if value < today and value != unchanged:
        raise ServiceError(f"{label} cannot be in the past.", field=field_name)
    return value


def _checked_principles(principle_ids: Iterable[int]) -> list[TQMPrinciple]:
    wanted = sorted(set(principle_ids))
    if not wanted:
        raise ServiceError(
            "Map the CAPA to at least one of the eight TQM principles.", field="principles"
        )
    found = list(
        db.session.scalars(
            select(TQMPrinciple).where(TQMPrinciple.id.in_(wanted)).order_by(TQMPrinciple.id)
        )
    )
    if len(found) != len(wanted):
        raise ServiceError("Choose principles from the list.", field="principles")
    return found


def _checked_nonconformities(
    nonconformity_ids: Iterable[int], already_linked: Iterable[Nonconformity] = ()
) -> list[Nonconformity]:
    wanted = sorted(set(nonconformity_ids))
    if not wanted:
        return []
    found = list(
        db.session.scalars(
            select(Nonconformity).where(Nonconformity.id.in_(wanted)).order_by(Nonconformity.id)
        )
    )
    if len(found) != len(wanted):
        raise ServiceError("A nonconformity to link does not exist.", field="nonconformities")
    kept = {nc.id for nc in already_linked}
    finished = [
        nc.reference
        for nc in found
        if nc.status in _LINKABLE_NC_STATUSES_EXCLUDED and nc.id not in kept
    ]
    if finished:
        raise ServiceError(
            f"Closed or cancelled nonconformities take no new CAPA: {', '.join(finished)}.",
            field="nonconformities",
        )
    return found


def _checked_root_causes(
    root_cause_ids: Iterable[int], nonconformities: Sequence[Nonconformity]
) -> list[RootCause]:
    wanted = sorted(set(root_cause_ids))
    if not wanted:
        return []
    nc_ids = [nc.id for nc in nonconformities]
    found = list(
        db.session.scalars(
            select(RootCause)
            .join(RootCause.analysis)
            .where(RootCause.id.in_(wanted), RootCauseAnalysis.nonconformity_id.in_(nc_ids))
            .order_by(RootCause.id)
        )
    )
    if len(found) != len(wanted):
        raise ServiceError(
            "Root causes must come from the analyses of the linked nonconformities.",
            field="root_causes",
        )
    return found


def _checked_follow_up_of(capa_id: int | None) -> Capa | None:
    if capa_id is None:
        return None
    original = db.session.get(Capa, capa_id)
    if original is None:
        raise ServiceError("The CAPA to follow up does not exist.", field="follow_up_of")
    if original.status != CapaStatus.INEFFECTIVE:
        raise ServiceError(
            f"Only an ineffective CAPA needs a follow-up; {original.reference} is "
            f"{original.status.label.lower()}.",
            field="follow_up_of",
        )
    return original


# --- lookups -----------------------------------------------------------------------------------


def capa_by_reference(reference: str) -> Capa | None:
    """The CAPA with everything its page shows loaded up front."""
    return db.session.scalar(
        select(Capa)
        .where(Capa.reference == reference.strip().upper())
        .options(
            joinedload(Capa.owner),
            joinedload(Capa.follow_up_of),
            selectinload(Capa.principles),
            selectinload(Capa.nonconformities),
            selectinload(Capa.root_causes)
            .joinedload(RootCause.analysis)
            .joinedload(RootCauseAnalysis.nonconformity),
            selectinload(Capa.trainings).joinedload(TrainingAssignment.staff),
            selectinload(Capa.checks).joinedload(EffectivenessCheck.checked_by),
        )
    )


def nonconformity_ids_for(references: Iterable[str]) -> list[int]:
    """Ids of the nonconformities with these references; names the unknown ones if any."""
    wanted = sorted({ref.strip().upper() for ref in references if ref.strip()})
    if not wanted:
        return []
    rows = dict(
        db.session.execute(
            select(Nonconformity.reference, Nonconformity.id).where(
                Nonconformity.reference.in_(wanted)
            )
        ).all()
    )
    unknown = [ref for ref in wanted if ref not in rows]
    if unknown:
        raise ServiceError(
            f"No nonconformity with the reference {', '.join(unknown)}.", field="nonconformities"
        )
    return [rows[ref] for ref in wanted]


def find_nonconformities(references: Iterable[str]) -> list[Nonconformity]:
    """The nonconformities among these references that exist (unknown ones are skipped)."""
    wanted = sorted({ref.strip().upper() for ref in references if ref.strip()})
    if not wanted:
        return []
    return list(
        db.session.scalars(
            select(Nonconformity)
            .where(Nonconformity.reference.in_(wanted))
            .order_by(Nonconformity.id)
        )
    )


def root_cause_options(nonconformity_ids: Iterable[int]) -> list[RootCause]:
    """Root causes found by the analyses of these nonconformities, for linking to a CAPA."""
    ids = list(set(nonconformity_ids))
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(RootCause)
            .join(RootCause.analysis)
            .where(RootCauseAnalysis.nonconformity_id.in_(ids))
            .options(joinedload(RootCause.analysis).joinedload(RootCauseAnalysis.nonconformity))
            .order_by(RootCause.id)
        )
    )


def list_principles() -> list[TQMPrinciple]:
    return list(db.session.scalars(select(TQMPrinciple).order_by(TQMPrinciple.id)))


def complaints_answered(capa: Capa) -> list[Complaint]:
    """The complaints linked to the CAPA's nonconformities: the complaints this CAPA answers."""
    nc_ids = [nc.id for nc in capa.nonconformities]
    if not nc_ids:
        return []
    return list(
        db.session.scalars(
            select(Complaint)
            .where(
                Complaint.id.in_(
                    select(complaint_nonconformity.c.complaint_id).where(
                        complaint_nonconformity.c.nonconformity_id.in_(nc_ids)
                    )
                )
            )
            .order_by(Complaint.received_at, Complaint.id)
        )
    )


def follow_ups_of(capa: Capa) -> list[Capa]:
    return list(
        db.session.scalars(select(Capa).where(Capa.follow_up_of_id == capa.id).order_by(Capa.id))
    )


# --- planning and editing ----------------------------------------------------------------------


def plan_capa(
    *,
    kind: CapaKind | str,
    recovery_dimension: RecoveryDimension | str,
    title: str,
    description: str = "",
    owner_id: int | None,
    due_date: date | None,
    cost: Decimal | int | str | None = None,
    principle_ids: Iterable[int],
    nonconformity_ids: Iterable[int] = (),
    root_cause_ids: Iterable[int] = (),
    follow_up_of: int | None = None,
    user: User | None = None,
    today: date | None = None,
) -> Capa:
    """Plan a CAPA (status planned) with the next CAPA-<year>-<number> reference.

    Refuses: no TQM principle (field "principles"), a due date in the past, a negative cost, an
    owner who is not an active quality lead or contributor, unknown or closed nonconformities,
    root causes not found by the linked nonconformities' analyses, a follow-up of a CAPA that is
    not ineffective. When `user` is given they must be a quality lead."""
    if user is not None:
        _require_quality_lead(user, "plan a CAPA")
    today = today or today_utc()
    kind = _checked_kind(kind)
    dimension = _checked_dimension(recovery_dimension)
    title = checked_text(title, "A title", "title", TITLE_MAX_LENGTH)
    description = checked_text(
        description, "The description", "description", TEXT_MAX_LENGTH, required=False
    )
    owner = _checked_person(owner_id, None, "owner", "owner_id")
    due = _checked_date(due_date, "The due date", "due_date", today)
    amount = checked_money(cost, "The cost", "cost", below=COST_LIMIT)
    principles = _checked_principles(principle_ids)
    nonconformities = _checked_nonconformities(nonconformity_ids)
    root_causes = _checked_root_causes(root_cause_ids, nonconformities)
    original = _checked_follow_up_of(follow_up_of)
    capa = Capa(
        reference=next_reference(db.session, "CAPA", utcnow().year),
        kind=kind,
        recovery_dimension=dimension,
        status=CapaStatus.PLANNED,
        title=title,
        description=description,
        owner_id=owner.id,
        due_date=due,
        cost=amount,
        follow_up_of_id=original.id if original else None,
    )
    capa.principles = principles
    capa.nonconformities = nonconformities
    capa.root_causes = root_causes
    db.session.add(capa)
    db.session.flush()
    return capa


def create_follow_up(
    capa: Capa,
    *,
    kind: CapaKind | str,
    recovery_dimension: RecoveryDimension | str,
    title: str,
    description: str = "",
    owner_id: int | None,
    due_date: date | None,
    cost: Decimal | int | str | None = None,
    principle_ids: Iterable[int],
    nonconformity_ids: Iterable[int] = (),
    root_cause_ids: Iterable[int] = (),
    user: User | None = None,
    today: date | None = None,
) -> Capa:
    """Plan the follow-up action an ineffective `capa` asks for: a new CAPA pointing back at it,
    linked to the same nonconformities (plus any others given)."""
    linked = {nc.id for nc in capa.nonconformities} | set(nonconformity_ids)
    return plan_capa(
        kind=kind,
        recovery_dimension=recovery_dimension,
        title=title,
        description=description,
        owner_id=owner_id,
        due_date=due_date,
        cost=cost,
        principle_ids=principle_ids,
        nonconformity_ids=sorted(linked),
        root_cause_ids=root_cause_ids,
        follow_up_of=capa.id,
        user=user,
        today=today,
    )


def update_capa(
    capa: Capa,
    *,
    user: User,
    kind: CapaKind | str,
    recovery_dimension: RecoveryDimension | str,
    title: str,
    description: str,
    owner_id: int | None,
    due_date: date | None,
    cost: Decimal | int | str | None,
    principle_ids: Iterable[int],
    nonconformity_ids: Iterable[int],
    root_cause_ids: Iterable[int],
    expected_version: object,
    today: date | None = None,
) -> Capa:
    """Apply an edit of `capa` by its owner or a quality lead, refusing a stale form.

    The same rules as `plan_capa`, except that a due date already in the past may stay, and
    nonconformities already linked may stay linked after they close. Only a quality lead may
    give the CAPA to another owner. A closed CAPA is locked."""
    _require_edit(user, capa, "edit it")
    ensure_current_version(capa, expected_version, capa.reference)
    _refuse_closed(capa, "edit it")
    today = today or today_utc()
    kind = _checked_kind(kind)
    dimension = _checked_dimension(recovery_dimension)
    title = checked_text(title, "A title", "title", TITLE_MAX_LENGTH)
    description = checked_text(
        description, "The description", "description", TEXT_MAX_LENGTH, required=False
    )
    if owner_id != capa.owner_id and not is_quality_lead(user):
        raise ServiceError("Only a quality lead may give the CAPA to someone else.", "owner_id")
    owner = _checked_person(owner_id, capa.owner_id, "owner", "owner_id")
    due = _checked_date(due_date, "The due date", "due_date", today, unchanged=capa.due_date)
    amount = checked_money(cost, "The cost", "cost", below=COST_LIMIT)
    principles = _checked_principles(principle_ids)
    nonconformities = _checked_nonconformities(nonconformity_ids, capa.nonconformities)
    root_causes = _checked_root_causes(root_cause_ids, nonconformities)
    capa.kind = kind
    capa.recovery_dimension = dimension
    capa.title = title
    capa.description = description
    capa.owner_id = owner.id
    capa.due_date = due
    capa.cost = amount
    capa.principles = principles
    capa.nonconformities = nonconformities
    capa.root_causes = root_causes
    # Links live in other tables; touching the row makes every save bump the version, so a
    # concurrent edit of the links alone is refused too.
    capa.updated_at = utcnow()
    flush_or_refuse_stale(db.session, capa.reference)
    return capa


def link_nonconformities(
    capa: Capa, nonconformity_ids: Iterable[int], user: User | None = None
) -> list[Nonconformity]:
    """Link more nonconformities to `capa` (those already linked are left alone); returns the
    newly linked ones. Closed or cancelled nonconformities are refused."""
    if user is not None:
        _require_edit(user, capa, "link nonconformities to it")
    _refuse_closed(capa, "link nonconformities to it")
    linked = {nc.id for nc in capa.nonconformities}
    new = _checked_nonconformities(set(nonconformity_ids) - linked)
    if new:
        capa.nonconformities = [*capa.nonconformities, *new]
        capa.updated_at = utcnow()
        flush_or_refuse_stale(db.session, capa.reference)
    return new


# --- the workflow ------------------------------------------------------------------------------


def transition_capa(capa: Capa, name: str, user: User, reason: str | None = None) -> Capa:
    """Fire workflow transition `name` (start, implement, verify, mark_ineffective) as `user`.

    Marking effective and closing need an electronic signature: see `verify_effectiveness` and
    `close_capa`. Raises NotAllowed when the user may never fire it on this CAPA, and
    TransitionRefused (with the reason) when it is not possible now."""
    item = CAPA_WORKFLOW.get(name)
    if name in SIGNED_TRANSITIONS:
        raise TransitionRefused(
            f"“{item.label}” needs an electronic signature: use the signing form."
        )
    if not CAPA_WORKFLOW.may_act(item, user, capa):
        raise NotAllowed(f"Your role may not “{item.label}” {capa.reference}.")
    return CAPA_WORKFLOW.fire(capa, name, user, reason=reason)


def available_transitions(capa: Capa, user: User) -> list[tuple[Any, str | None]]:
    """The buttons the CAPA page offers `user`, each with why it is refused now (or None);
    signed transitions are left to the signing forms."""
    return [
        (item, refusal)
        for item, refusal in CAPA_WORKFLOW.available(capa, user)
        if item.name not in SIGNED_TRANSITIONS
    ]


def signing_refusal(capa: Capa, user: User, purpose: str) -> str | None:
    """Why `user` cannot sign `purpose` on `capa` now, or None when the form may be used."""
    name = _signed_transition_for(capa, purpose)
    return CAPA_WORKFLOW.refusal(CAPA_WORKFLOW.get(name), capa, user)


def _signed_transition_for(capa: Capa, purpose: str) -> str:
    if purpose == EFFECTIVENESS_PURPOSE:
        return "mark_effective"
    return "close_ineffective" if capa.status == CapaStatus.INEFFECTIVE else "close"


def _sign_transition(
    capa: Capa, user: User, password: str, meaning: str, purpose: str
) -> Signature:
    name = _signed_transition_for(capa, purpose)
    refused = CAPA_WORKFLOW.refusal(CAPA_WORKFLOW.get(name), capa, user)
    if refused:
        raise TransitionRefused(refused)
    with all_or_nothing(db.session):
        # Transition first, so the signature covers the record as it now stands.
        CAPA_WORKFLOW.fire(capa, name, user)
        return sign_record(capa, user, password, meaning, purpose=purpose)


def verify_effectiveness(capa: Capa, user: User, password: str, meaning: str) -> Signature:
    """Sign the effectiveness verification (password re-entered, meaning chosen) and mark the
    CAPA effective. Needs a passed check and the sign permission; if anything fails — a wrong
    password included — nothing is changed."""
    return _sign_transition(capa, user, password, meaning, EFFECTIVENESS_PURPOSE)


def close_capa(capa: Capa, user: User, password: str, meaning: str) -> Signature:
    """Sign the closure and close the CAPA: an effective one, or an ineffective one once its
    follow-up exists. If anything fails nothing is changed."""
    return _sign_transition(capa, user, password, meaning, CLOSURE_PURPOSE)


@dataclass(frozen=True)
class SignatureRow:
    signature: Signature
    purpose_label: str
    changed: bool


def signature_rows(capa: Capa) -> list[SignatureRow]:
    """The CAPA's signatures, each saying whether the CAPA changed after it was signed.

    Closing an effective CAPA is the expected next step after the effectiveness signature, so
    that signature is compared with the record as it stood before the closure stamps (status
    and closure time); any other change shows as "changed after signature"."""
    rows = []
    for signature in signatures_of(capa):
        # A void signature (the CAPA was reopened) says so instead of "changed".
        changed = not signature.is_void and changed_after_signature(signature, capa)
        if (
            changed
            and signature.purpose == EFFECTIVENESS_PURPOSE
            and capa.status == CapaStatus.CLOSED
        ):
            changed = effectiveness_content_hash(capa) != signature.content_hash
        rows.append(
            SignatureRow(
                signature, PURPOSE_LABELS.get(signature.purpose, signature.purpose), changed
            )
        )
    return rows


def effectiveness_content_hash(capa: Capa) -> str:
    """The content hash the effectiveness signature of `capa` covers: the CAPA as it stands,
    or, once closed, as it stood before the closure stamps (status and closure time)."""
    if capa.status == CapaStatus.CLOSED:
        return content_hash(_as_before_closure(capa))
    return content_hash(capa)


def _as_before_closure(capa: Capa) -> Capa:
    # A transient copy, never added to the session: only its content hash is wanted.
    values = {attr.key: getattr(capa, attr.key) for attr in inspect(Capa).column_attrs}
    values.update(status=CapaStatus.EFFECTIVE, closed_at=None)
    return Capa(**values)


# --- training (employee recovery) --------------------------------------------------------------


def assign_training(
    capa: Capa,
    *,
    staff_id: int | None,
    topic: str,
    due_date: date | None,
    user: User,
    today: date | None = None,
) -> TrainingAssignment:
    """Assign training to a staff member. Allowed on any open CAPA; an employee-recovery CAPA
    cannot be implemented until all its trainings are completed."""
    _require_edit(user, capa, "assign training")
    _refuse_closed(capa, "assign training")
    today = today or today_utc()
    staff = _checked_person(staff_id, None, "staff member", "staff_id")
    topic = checked_text(topic, "A topic", "topic", TOPIC_MAX_LENGTH)
    due = _checked_date(due_date, "The due date", "due_date", today)
    training = TrainingAssignment(capa=capa, staff_id=staff.id, topic=topic, due_date=due)
    db.session.add(training)
    db.session.flush()
    return training


def complete_training(training: TrainingAssignment, user: User) -> TrainingAssignment:
    """Record that the training was given. The staff member themself or a quality lead."""
    own = training.staff_id == user.id and role_can(user.role, Permission.RECORDS_CREATE)
    if not own and not is_quality_lead(user):
        raise NotAllowed("Only the staff member or a quality lead may complete this training.")
    _refuse_closed(training.capa, "record training")
    if training.completed_at is not None:
        raise ServiceError(
            f"This training was already completed on {training.completed_at:%Y-%m-%d}."
        )
    training.completed_at = utcnow()
    db.session.flush()
    return training


# --- effectiveness checks ----------------------------------------------------------------------


def default_criterion(window_days: int | None) -> str:
    days = window_days or "N"
    return (
        f"No new complaint or nonconformity with the same process and category for {days} days "
        "after implementation."
    )


def plan_effectiveness_check(
    capa: Capa,
    *,
    criterion: str,
    method: CheckMethod | str,
    window_days: int | None,
    due_date: date | None,
    user: User,
    today: date | None = None,
) -> EffectivenessCheck:
    """Plan how the CAPA's effectiveness will be judged: a manual review, or the automatic
    no-recurrence criterion over `window_days` (> 0) days after implementation."""
    _require_edit(user, capa, "plan effectiveness checks")
    _refuse_closed(capa, "plan effectiveness checks")
    if capa.status not in CHECK_PLANNING_STATUSES:
        raise ServiceError(
            f"Checks can no longer be planned: {capa.reference} is {capa.status.label.lower()}."
        )
    today = today or today_utc()
    try:
        method = CheckMethod(method)
    except ValueError:
        raise ServiceError("Choose how the check is made.", field="method") from None
    if method == CheckMethod.NO_RECURRENCE:
        if window_days is None or window_days <= 0:
            raise ServiceError(
                "An automatic check needs a window of at least one day.", field="window_days"
            )
        if window_days > WINDOW_DAYS_MAX:
            raise ServiceError(
                f"The window may be at most {WINDOW_DAYS_MAX} days.", field="window_days"
            )
        criterion = (criterion or "").strip() or default_criterion(window_days)
    else:
        window_days = None
    criterion = checked_text(criterion, "A criterion", "criterion", TEXT_MAX_LENGTH)
    due = _checked_date(due_date, "The due date", "due_date", today)
    check = EffectivenessCheck(
        capa=capa,
        criterion=criterion,
        method=method,
        window_days=window_days,
        due_date=due,
        result=CheckResult.PENDING,
    )
    db.session.add(check)
    db.session.flush()
    return check


@dataclass(frozen=True)
class CheckOutcome:
    """What recording (or evaluating) a check did, in words for the page."""

    check: EffectivenessCheck
    decided: bool
    follow_up_required: bool
    message: str


def _refuse_unless_recordable(check: EffectivenessCheck) -> None:
    capa = check.capa
    _refuse_closed(capa, "record check results")
    if check.result != CheckResult.PENDING:
        raise ServiceError(f"This check already has its result: {check.result.label.lower()}.")
    if capa.status not in CHECK_RESULT_STATUSES:
        raise ServiceError(
            f"Results are recorded once the CAPA is implemented; {capa.reference} is "
            f"{capa.status.label.lower()}."
        )


def _apply_result(
    check: EffectivenessCheck, result: CheckResult, evidence: str, user: User | None
) -> CheckOutcome:
    capa = check.capa
    check.result = result
    check.evidence = evidence
    check.checked_by_id = user.id if user is not None else None
    check.checked_at = utcnow()
    db.session.flush()
    if result == CheckResult.PASSED:
        if capa.status == CapaStatus.VERIFYING:
            message = (
                "The check passed. Verify the effectiveness with your electronic signature "
                "to mark the CAPA effective."
            )
        else:
            message = "The check passed. Start verification, then sign the effectiveness."
        return CheckOutcome(check, True, False, message)
    if capa.status == CapaStatus.VERIFYING and user is not None:
        CAPA_WORKFLOW.fire(capa, "mark_ineffective", user, reason="Effectiveness check failed")
        message = (
            f"The check failed: {capa.reference} is now ineffective. "
            "A follow-up action is required."
        )
    else:
        message = (
            "The check failed. Mark the CAPA ineffective once it is being verified; "
            "a follow-up action is required."
        )
    return CheckOutcome(check, True, True, message)


def record_check_result(
    check: EffectivenessCheck, *, result: CheckResult | str, evidence: str, user: User
) -> CheckOutcome:
    """Record a check's result (quality leads only; evidence required). A failed check on a CAPA
    under verification makes it ineffective at once, and the outcome asks for a follow-up."""
    _require_quality_lead(user, "record effectiveness check results")
    _refuse_unless_recordable(check)
    try:
        result = CheckResult(result)
    except ValueError:
        raise ServiceError("Choose passed or failed.", field="result") from None
    if result == CheckResult.PENDING:
        raise ServiceError("Choose passed or failed.", field="result")
    evidence = checked_text(evidence, "Evidence", "evidence", TEXT_MAX_LENGTH)
    too_soon = effectiveness_not_before(check.capa)
    if too_soon:
        raise ServiceError(too_soon, field="result")
    return _apply_result(check, result, evidence, user)


@dataclass(frozen=True)
class RecurrenceEvaluation:
    """The automatic no-recurrence criterion, evaluated without changing anything."""

    passed: bool
    count: int
    window_start: datetime
    window_end: datetime
    # False while the window is still running: no recurrence *so far* cannot pass the check yet.
    complete: bool
    references: list[str] = field(default_factory=list)

    @property
    def decided(self) -> bool:
        return self.complete or not self.passed


def _fingerprints(capa: Capa) -> list[tuple[int, int]]:
    return sorted(
        {
            (nc.process_id, nc.category_id)
            for nc in capa.nonconformities
            if nc.process_id is not None and nc.category_id is not None
        }
    )


def evaluate_no_recurrence(
    check: EffectivenessCheck, today: date | None = None
) -> RecurrenceEvaluation:
    """Count complaints and nonconformities with the same process AND category as the CAPA's
    linked nonconformities, received or detected after the CAPA was implemented and within the
    check's window (up to `today`, end of day UTC; default now). Changes nothing.

    Passed means none were found; `complete` says whether the whole window has elapsed."""
    capa = check.capa
    if check.method != CheckMethod.NO_RECURRENCE or not check.window_days:
        raise ServiceError("Only automatic no-recurrence checks are evaluated by the system.")
    if capa.implemented_at is None:
        raise ServiceError(f"{capa.reference} is not implemented yet: there is nothing to measure.")
    pairs = _fingerprints(capa)
    if not pairs:
        raise ServiceError(
            "The linked nonconformities name no process and category to watch for recurrence."
        )
    start = capa.implemented_at
    window_end = start + timedelta(days=check.window_days)
    as_of = (
        utcnow()
        if today is None
        else datetime.combine(today + timedelta(days=1), time.min, tzinfo=UTC)
    )
    end = min(window_end, as_of)
    own_ids = [nc.id for nc in capa.nonconformities]
    complaint_filter = and_(
        or_(*(and_(Complaint.process_id == p, Complaint.category_id == c) for p, c in pairs)),
        Complaint.received_at > start,
        Complaint.received_at <= end,
    )
    nc_filter = and_(
        or_(
            *(and_(Nonconformity.process_id == p, Nonconformity.category_id == c) for p, c in pairs)
        ),
        Nonconformity.detected_at > start,
        Nonconformity.detected_at <= end,
        Nonconformity.id.not_in(own_ids),
    )
    count = (db.session.scalar(select(func.count()).where(complaint_filter)) or 0) + (
        db.session.scalar(select(func.count()).where(nc_filter)) or 0
    )
    matches = [
        *db.session.execute(
            select(Complaint.received_at, Complaint.reference)
            .where(complaint_filter)
            .order_by(Complaint.received_at, Complaint.id)
            .limit(MATCHES_SHOWN)
        ).all(),
        *db.session.execute(
            select(Nonconformity.detected_at, Nonconformity.reference)
            .where(nc_filter)
            .order_by(Nonconformity.detected_at, Nonconformity.id)
            .limit(MATCHES_SHOWN)
        ).all(),
    ]
    matches.sort()
    return RecurrenceEvaluation(
        passed=count == 0,
        count=count,
        window_start=start,
        window_end=window_end,
        complete=as_of >= window_end,
        references=[reference for _, reference in matches[:MATCHES_SHOWN]],
    )


def _window_text(evaluation: RecurrenceEvaluation) -> str:
    return f"{evaluation.window_start:%Y-%m-%d %H:%M} to {evaluation.window_end:%Y-%m-%d %H:%M} UTC"


def run_automatic_check(
    check: EffectivenessCheck, user: User | None, today: date | None = None
) -> CheckOutcome:
    """Evaluate an automatic check and record its result when it is decided: failed as soon as a
    recurrence appears, passed once the whole window has elapsed without one. While the window
    runs with no recurrence the check stays pending and nothing changes.

    `user` is the quality lead who pressed "Evaluate now", or None for the scheduler; a failed
    check then leaves marking the CAPA ineffective to a person."""
    if user is not None:
        _require_quality_lead(user, "evaluate effectiveness checks")
    _refuse_unless_recordable(check)
    evaluation = evaluate_no_recurrence(check, today)
    if not evaluation.decided:
        return CheckOutcome(
            check,
            False,
            False,
            f"No new complaint or nonconformity so far; the window runs until "
            f"{evaluation.window_end:%Y-%m-%d %H:%M} UTC, so the check stays pending.",
        )
    if evaluation.passed:
        evidence = (
            "Automatic check: no new complaint or nonconformity with the same process and "
            f"category from {_window_text(evaluation)}: 0 new records."
        )
        return _apply_result(check, CheckResult.PASSED, evidence, user)
    shown = ", ".join(evaluation.references)
    more = evaluation.count - len(evaluation.references)
    evidence = (
        f"Automatic check: {evaluation.count} new record(s) with the same process and category "
        f"from {_window_text(evaluation)}: {shown}" + (f" and {more} more." if more else ".")
    )
    return _apply_result(check, CheckResult.FAILED, evidence, user)


# --- lists -------------------------------------------------------------------------------------


SORT_COLUMNS = {"due_date": Capa.due_date, "reference": Capa.reference, "status": Capa.status}
DEFAULT_SORT = "due_date"


@dataclass(frozen=True)
class CapaFilters:
    status: CapaStatus | None = None
    owner_id: int | None = None
    kind: CapaKind | None = None
    recovery_dimension: RecoveryDimension | None = None
    principle_id: int | None = None
    process_id: int | None = None
    category_id: int | None = None
    due_from: date | None = None
    due_to: date | None = None
    overdue: bool = False
    today: date | None = None


def capa_list_query(
    filters: CapaFilters, sort: str | None = None
) -> tuple[Select[tuple[Capa]], str]:
    """The filtered, sorted CAPA list with what each row shows loaded in a fixed number of
    queries; returns the statement and the sort key used.

    Process and category match through the linked nonconformities. Overdue: due date before
    today and the CAPA neither effective nor closed."""
    statement = select(Capa).options(
        joinedload(Capa.owner),
        selectinload(Capa.principles),
        selectinload(Capa.nonconformities),
    )
    if filters.status is not None:
        statement = statement.where(Capa.status == filters.status)
    if filters.owner_id is not None:
        statement = statement.where(Capa.owner_id == filters.owner_id)
    if filters.kind is not None:
        statement = statement.where(Capa.kind == filters.kind)
    if filters.recovery_dimension is not None:
        statement = statement.where(Capa.recovery_dimension == filters.recovery_dimension)
    if filters.principle_id is not None:
        statement = statement.where(Capa.principles.any(TQMPrinciple.id == filters.principle_id))
    if filters.process_id is not None:
        statement = statement.where(
            Capa.nonconformities.any(Nonconformity.process_id == filters.process_id)
        )
    if filters.category_id is not None:
        statement = statement.where(
            Capa.nonconformities.any(Nonconformity.category_id == filters.category_id)
        )
    if filters.due_from is not None:
        statement = statement.where(Capa.due_date >= filters.due_from)
    if filters.due_to is not None:
        statement = statement.where(Capa.due_date <= filters.due_to)
    if filters.overdue:
        statement = statement.where(overdue_clause(filters.today or today_utc()))
    return apply_sort(statement, sort, SORT_COLUMNS, DEFAULT_SORT, Capa.id)


def owner_choices() -> list[User]:
    """Everyone who may own a CAPA, deactivated people included (old CAPAs keep their owner)."""
    return list(
        db.session.scalars(
            select(User).where(User.role.in_(_PEOPLE_ROLES)).order_by(User.full_name)
        )
    )


def process_choices() -> list[Process]:
    return list(db.session.scalars(select(Process).order_by(Process.name)))


def category_choices() -> list[Category]:
    return list(db.session.scalars(select(Category).order_by(Category.name)))


# --- my work -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MyWork:
    """A person's open work, each list overdue first, then by due date (at most 100 each)."""

    today: date
    capas: list[Capa]
    checks: list[EffectivenessCheck]
    trainings: list[TrainingAssignment]
    capa_total: int
    check_total: int
    training_total: int


def _count(statement: Select[Any]) -> int:
    return db.session.scalar(select(func.count()).select_from(statement.subquery())) or 0


def my_work(user: User, today: date | None = None) -> MyWork:
    """The CAPAs `user` owns that are not closed; the pending effectiveness checks of those
    CAPAs (every pending check for a quality lead); their training not yet completed."""
    today = today or today_utc()
    capa_overdue = case((overdue_clause(today), 0), else_=1)
    capas = (
        select(Capa)
        .where(Capa.owner_id == user.id, Capa.status != CapaStatus.CLOSED)
        .options(selectinload(Capa.principles))
    )
    check_overdue = case((EffectivenessCheck.due_date < today, 0), else_=1)
    checks = (
        select(EffectivenessCheck)
        .join(EffectivenessCheck.capa)
        .where(EffectivenessCheck.result == CheckResult.PENDING, Capa.status != CapaStatus.CLOSED)
        .options(joinedload(EffectivenessCheck.capa).joinedload(Capa.owner))
    )
    if not is_quality_lead(user):
        checks = checks.where(Capa.owner_id == user.id)
    training_overdue = case((TrainingAssignment.due_date < today, 0), else_=1)
    trainings = (
        select(TrainingAssignment)
        .where(TrainingAssignment.staff_id == user.id, TrainingAssignment.completed_at.is_(None))
        .options(joinedload(TrainingAssignment.capa))
    )
    return MyWork(
        today=today,
        capas=list(
            db.session.scalars(
                capas.order_by(capa_overdue, Capa.due_date, Capa.id).limit(MY_WORK_LIMIT)
            )
        ),
        checks=list(
            db.session.scalars(
                checks.order_by(
                    check_overdue, EffectivenessCheck.due_date, EffectivenessCheck.id
                ).limit(MY_WORK_LIMIT)
            )
        ),
        trainings=list(
            db.session.scalars(
                trainings.order_by(
                    training_overdue, TrainingAssignment.due_date, TrainingAssignment.id
                ).limit(MY_WORK_LIMIT)
            )
        ),
        capa_total=_count(capas),
        check_total=_count(checks),
        training_total=_count(trainings),
    )
