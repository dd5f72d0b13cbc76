"""CAPA: corrective and preventive actions: planning, editing, the workflow and its signatures.
Effectiveness checks live in `app.capa.effectiveness`, training (the employee recovery) in
`app.capa.training`, the register and "my work" lists in `app.capa.listing`.

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
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, inspect, or_, select
from sqlalchemy.orm import joinedload, selectinload

from app.accounts.models import User
from app.accounts.services import sign_record, signatures_of
from app.capa.models import (
    Capa,
    CapaKind,
    CapaStatus,
    EffectivenessCheck,
    RecoveryDimension,
    TrainingAssignment,
)
from app.capa.workflow import CAPA_WORKFLOW
from app.complaints.models import Complaint
from app.core.db import all_or_nothing, ensure_current_version, flush_or_refuse_stale, utcnow
from app.core.errors import ServiceError
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
from app.organisation.models import TQMPrinciple
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
PEOPLE_ROLES = (Role.QUALITY_LEAD, Role.CONTRIBUTOR)


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


def require_edit(user: User | None, capa: Capa, action: str) -> None:
    if not may_edit(user, capa):
        raise NotAllowed(f"Only a quality lead or the owner of {capa.reference} may {action}.")


def require_quality_lead(user: User | None, action: str) -> None:
    if not is_quality_lead(user):
        raise NotAllowed(f"Only a quality lead may {action}.")


def refuse_closed(capa: Capa, action: str = "change it") -> None:
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
    condition = and_(User.active.is_(True), User.role.in_(PEOPLE_ROLES))
    if current_id is not None:
        condition = or_(condition, User.id == current_id)
    return list(db.session.scalars(select(User).where(condition).order_by(User.full_name)))


def checked_person(
    user_id: int | None, current_id: int | None, label: str, field_name: str
) -> User:
    if user_id is None:
        raise ServiceError(f"Choose the {label}.", field=field_name)
    person = db.session.get(User, user_id)
    if person is not None and user_id == current_id:
        return person  # already named: may stay even if since deactivated
    if person is None or not person.active or person.role not in PEOPLE_ROLES:
        raise ServiceError(
            f"The {label} must be an active quality lead or contributor.", field=field_name
        )
    return person


def checked_date(
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
        require_quality_lead(user, "plan a CAPA")
    today = today or today_utc()
    kind = _checked_kind(kind)
    dimension = _checked_dimension(recovery_dimension)
    title = checked_text(title, "A title", "title", TITLE_MAX_LENGTH)
    description = checked_text(
        description, "The description", "description", TEXT_MAX_LENGTH, required=False
    )
    owner = checked_person(owner_id, None, "owner", "owner_id")
    due = checked_date(due_date, "The due date", "due_date", today)
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
    require_edit(user, capa, "edit it")
    ensure_current_version(capa, expected_version, capa.reference)
    refuse_closed(capa, "edit it")
    today = today or today_utc()
    kind = _checked_kind(kind)
    dimension = _checked_dimension(recovery_dimension)
    title = checked_text(title, "A title", "title", TITLE_MAX_LENGTH)
    description = checked_text(
        description, "The description", "description", TEXT_MAX_LENGTH, required=False
    )
    if owner_id != capa.owner_id and not is_quality_lead(user):
        raise ServiceError("Only a quality lead may give the CAPA to someone else.", "owner_id")
    owner = checked_person(owner_id, capa.owner_id, "owner", "owner_id")
    due = checked_date(due_date, "The due date", "due_date", today, unchanged=capa.due_date)
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
        require_edit(user, capa, "link nonconformities to it")
    refuse_closed(capa, "link nonconformities to it")
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
