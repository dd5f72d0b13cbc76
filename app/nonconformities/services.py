"""Nonconformities: raising them (also from a complaint), editing, linking complaints, the
workflow with its signed closure, and the filtered list.

Services take plain values, check the rules, change records and flush; they never commit. A
refusal is a `ServiceError` naming the field at fault (`NotPermitted` when the user may not make
the change at all); after one, the caller rolls the session back before using it again.

Every change service takes the acting `user`. Where it is optional, `None` means a trusted system
caller (demo data, jobs) that has already decided; views always pass the signed-in user.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.accounts.services import sign_record
from app.complaints.models import Complaint
from app.complaints.workflow import COMPLAINT_WORKFLOW
from app.core.db import all_or_nothing, ensure_current_version, flush_or_refuse_stale, utcnow
from app.core.errors import NotPermitted, ServiceError
from app.core.listing import apply_sort
from app.core.permissions import Permission, Role, role_can
from app.core.references import next_reference
from app.core.signatures import Signature
from app.core.validation import checked_text
from app.core.workflow import TransitionRefused
from app.extensions import db
from app.nonconformities.models import Nonconformity, NonconformitySource, NonconformityStatus
from app.nonconformities.workflow import NONCONFORMITY_WORKFLOW
from app.organisation.models import Category, Process

TITLE_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 10_000
CONTAINMENT_MAX_LENGTH = 5_000
REASON_MAX_LENGTH = 2_000
SEARCH_MAX_LENGTH = 200
RATING_MIN, RATING_MAX = 1, 10

CLOSURE_PURPOSE = "nonconformity_closure"
# A nonconformity still being worked this long after detection counts as overdue.
OVERDUE_AFTER_DAYS = 30
FINISHED_STATUSES = frozenset({NonconformityStatus.CLOSED, NonconformityStatus.CANCELLED})

# Risk priority number bands: low below 100, medium 100–199, high 200 and above.
RPN_BANDS: dict[str, tuple[int, int | None]] = {
    "low": (1, 99),
    "medium": (100, 199),
    "high": (200, None),
}
RPN_BAND_LABELS = {
    "low": "Low (below 100)",
    "medium": "Medium (100–199)",
    "high": "High (200 and above)",
}

RATING_FIELDS = {"severity": "Severity", "occurrence": "Occurrence", "detection": "Detection"}


# --- who may change what ---------------------------------------------------------------------


def may_edit(user: User | None, nc: Nonconformity) -> bool:
    """Whether `user` may change `nc`: a quality lead always; a contributor only as its owner;
    auditors and administrators never."""
    if user is None or not getattr(user, "is_authenticated", True):
        return False
    if role_can(user.role, Permission.RECORDS_MANAGE):
        return True
    return role_can(user.role, Permission.RECORDS_CREATE) and nc.owner_id == user.id


def _require_may_edit(user: User | None, nc: Nonconformity) -> None:
    if user is not None and not may_edit(user, nc):
        raise NotPermitted(
            f"Only a quality lead or the owner may change the nonconformity {nc.reference}."
        )


def is_read_only(nc: Nonconformity) -> bool:
    """Whether `nc` is closed or cancelled: nothing about it changes until it is reopened."""
    return NONCONFORMITY_WORKFLOW.is_locked(nc)


def _refuse_closed_complaints(complaints: Iterable[Complaint], user: User | None) -> None:
    # A person links or raises from open complaints only; the recurring-failure review (no
    # user) still links closed ones as evidence, which changes nothing on the complaint.
    if user is None:
        return
    closed = [
        complaint.reference for complaint in complaints if COMPLAINT_WORKFLOW.is_locked(complaint)
    ]
    if closed:
        raise ServiceError(
            f"{', '.join(closed)} {'is' if len(closed) == 1 else 'are'} closed and read-only; "
            "reopen the complaint (with a reason) first.",
            field="complaints",
        )


# --- reading ---------------------------------------------------------------------------------


def get_by_reference(reference: str) -> Nonconformity | None:
    """The nonconformity with this reference (e.g. NC-2026-000001), or None."""
    return db.session.scalar(
        select(Nonconformity).where(Nonconformity.reference == reference.strip().upper())
    )


def get_complaint_by_reference(reference: str) -> Complaint | None:
    return db.session.scalar(
        select(Complaint).where(Complaint.reference == reference.strip().upper())
    )


def rpn_band(rpn: int | None) -> str | None:
    """The band of a risk priority number: low (< 100), medium (100–199) or high (≥ 200)."""
    if rpn is None:
        return None
    for band, (low, high) in RPN_BANDS.items():
        if rpn >= low and (high is None or rpn <= high):
            return band
    return "low"  # below 1 cannot be stored (1–10 each), but never leave a row without a band


def is_overdue(nc: Nonconformity, now: datetime | None = None) -> bool:
    """Still being worked (not closed or cancelled) more than 30 days after detection."""
    now = now or utcnow()
    return nc.status not in FINISHED_STATUSES and nc.detected_at < now - timedelta(
        days=OVERDUE_AFTER_DAYS
    )


def assignable_owners(current_owner_id: int | None = None) -> list[User]:
    """Users who may own a nonconformity: active quality leads and contributors (the roles that
    may change records), plus the current owner whatever their state."""
    condition = and_(User.active.is_(True), User.role.in_([Role.QUALITY_LEAD, Role.CONTRIBUTOR]))
    if current_owner_id is not None:
        condition = or_(condition, User.id == current_owner_id)
    return list(db.session.scalars(select(User).where(condition).order_by(User.full_name)))


def selectable_processes(current_id: int | None = None) -> list[Process]:
    condition = Process.active.is_(True)
    if current_id is not None:
        condition = or_(condition, Process.id == current_id)
    return list(db.session.scalars(select(Process).where(condition).order_by(Process.name)))


def selectable_categories(current_id: int | None = None) -> list[Category]:
    condition = Category.active.is_(True)
    if current_id is not None:
        condition = or_(condition, Category.id == current_id)
    return list(db.session.scalars(select(Category).where(condition).order_by(Category.name)))


# --- checks shared by raise and update -------------------------------------------------------


def _rating(value: Any, field: str) -> int:
    label = RATING_FIELDS[field]
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ServiceError(
            f"{label} must be a whole number from {RATING_MIN} to {RATING_MAX}.", field=field
        ) from None
    if (isinstance(value, float) and value != number) or not RATING_MIN <= number <= RATING_MAX:
        raise ServiceError(
            f"{label} must be a whole number from {RATING_MIN} to {RATING_MAX}.", field=field
        )
    return number


def _source(value: NonconformitySource | str | None) -> NonconformitySource:
    try:
        return NonconformitySource(value)
    except ValueError:
        raise ServiceError("Choose where the nonconformity was found.", field="source") from None


def _detected_at(value: datetime | None) -> datetime:
    if value is None:
        raise ServiceError("The detection date and time are required.", field="detected_at")
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # forms give naive times; every time in Loop is UTC
    if value > utcnow():
        raise ServiceError("The detection time cannot be in the future.", field="detected_at")
    return value


def _checked_process(process_id: int | None, current_id: int | None) -> int | None:
    if process_id is None:
        return None
    process = db.session.get(Process, process_id)
    if process is None:
        raise ServiceError("The chosen process does not exist.", field="process_id")
    if not process.active and process_id != current_id:
        raise ServiceError(f"The process {process.name} is inactive.", field="process_id")
    return process_id


def _checked_category(category_id: int | None, current_id: int | None) -> int | None:
    if category_id is None:
        return None
    category = db.session.get(Category, category_id)
    if category is None:
        raise ServiceError("The chosen category does not exist.", field="category_id")
    if not category.active and category_id != current_id:
        raise ServiceError(f"The category {category.name} is inactive.", field="category_id")
    return category_id


def _checked_owner(owner_id: int | None, current_id: int | None) -> int | None:
    if owner_id is None:
        return None
    owner = db.session.get(User, owner_id)
    if owner is None:
        raise ServiceError("The chosen owner does not exist.", field="owner_id")
    if owner_id == current_id:
        return owner_id
    if not owner.active:
        raise ServiceError(
            f"{owner.full_name} is deactivated and cannot own a nonconformity.", field="owner_id"
        )
    if not role_can(owner.role, Permission.RECORDS_CREATE):
        raise ServiceError(
            f"{owner.full_name} is {owner.role_label.lower()} and may not work on records; "
            "choose a quality lead or a contributor.",
            field="owner_id",
        )
    return owner_id


def _complaints(complaint_ids: Iterable[int]) -> list[Complaint]:
    wanted = sorted({int(ident) for ident in complaint_ids})
    if not wanted:
        return []
    found = list(db.session.scalars(select(Complaint).where(Complaint.id.in_(wanted))))
    missing = set(wanted) - {complaint.id for complaint in found}
    if missing:
        raise ServiceError(
            f"No complaint with id {', '.join(str(i) for i in sorted(missing))}.",
            field="complaints",
        )
    return found


# --- raising and editing ---------------------------------------------------------------------


def raise_nonconformity(
    *,
    title: str,
    source: NonconformitySource | str,
    detected_at: datetime | None,
    severity: Any,
    occurrence: Any,
    detection: Any,
    description: str = "",
    process_id: int | None = None,
    category_id: int | None = None,
    owner_id: int | None = None,
    containment_action: str = "",
    complaint_ids: Iterable[int] = (),
    user: User | None = None,
) -> Nonconformity:
    """Record a new nonconformity (status open) with the next NC-<year>-<6 digits> reference.

    Severity, occurrence and detection are whole numbers 1–10; detection time may not be in the
    future (a naive time is taken as UTC). Process, category and owner, if given, must exist and
    be active (the owner a quality lead or contributor). The given complaints are linked."""
    if user is not None and not role_can(user.role, Permission.RECORDS_CREATE):
        raise NotPermitted("Your role may not raise nonconformities.")
    title = checked_text(title, "A title", "title", TITLE_MAX_LENGTH, required=True)
    nc_source = _source(source)
    detected = _detected_at(detected_at)
    ratings = {
        field: _rating(value, field)
        for field, value in (
            ("severity", severity),
            ("occurrence", occurrence),
            ("detection", detection),
        )
    }
    nc = Nonconformity(
        title=title,
        source=nc_source,
        detected_at=detected,
        description=checked_text(
            description, "The description", "description", DESCRIPTION_MAX_LENGTH, False
        ),
        containment_action=checked_text(
            containment_action,
            "The containment action",
            "containment_action",
            CONTAINMENT_MAX_LENGTH,
            False,
        ),
        process_id=_checked_process(process_id, None),
        category_id=_checked_category(category_id, None),
        owner_id=_checked_owner(owner_id, None),
        status=NonconformityStatus.OPEN,
        **ratings,
    )
    nc.complaints = _complaints(complaint_ids)
    _refuse_closed_complaints(nc.complaints, user)
    nc.reference = next_reference(db.session, "NC", utcnow().year)
    db.session.add(nc)
    db.session.flush()
    return nc


def prefill_from_complaint(complaint: Complaint) -> dict[str, Any]:
    """The values a "Raise nonconformity" form starts with for `complaint`: source customer
    complaint, its process, category, title and description, detected when it was received, and
    the complaint to link."""
    return {
        "source": NonconformitySource.CUSTOMER_COMPLAINT.value,
        "process_id": complaint.process_id,
        "category_id": complaint.category_id,
        "title": complaint.title[:TITLE_MAX_LENGTH],
        "description": complaint.description or "",
        "detected_at": complaint.received_at,
        "complaint_ids": [complaint.id],
    }


def update_nonconformity(
    nc: Nonconformity,
    *,
    title: str,
    description: str,
    process_id: int | None,
    category_id: int | None,
    owner_id: int | None,
    severity: Any,
    occurrence: Any,
    detection: Any,
    containment_action: str,
    expected_version: object,
    user: User | None = None,
) -> Nonconformity:
    """Apply an edit of `nc`'s editable fields. Never changes status, source, detection time or
    reference. Refuses a stale form (StaleRecord) and a user who may not edit (NotPermitted)."""
    label = f"The nonconformity {nc.reference}"
    _require_may_edit(user, nc)
    ensure_current_version(nc, expected_version, label)
    NONCONFORMITY_WORKFLOW.refuse_if_locked(nc, "edit it")
    values = {
        "title": checked_text(title, "A title", "title", TITLE_MAX_LENGTH, required=True),
        "description": checked_text(
            description, "The description", "description", DESCRIPTION_MAX_LENGTH, False
        ),
        "containment_action": checked_text(
            containment_action,
            "The containment action",
            "containment_action",
            CONTAINMENT_MAX_LENGTH,
            False,
        ),
        "severity": _rating(severity, "severity"),
        "occurrence": _rating(occurrence, "occurrence"),
        "detection": _rating(detection, "detection"),
        "process_id": _checked_process(process_id, nc.process_id),
        "category_id": _checked_category(category_id, nc.category_id),
        "owner_id": _checked_owner(owner_id, nc.owner_id),
    }
    if nc.contained_at is not None and not values["containment_action"]:
        raise ServiceError(
            "The containment action cannot be emptied once the nonconformity is contained.",
            field="containment_action",
        )
    for key, value in values.items():
        if getattr(nc, key) != value:
            setattr(nc, key, value)
    flush_or_refuse_stale(db.session, label)
    return nc


def link_complaints(
    nc: Nonconformity, complaint_ids: Iterable[int], *, user: User | None = None
) -> Nonconformity:
    """Link the given complaints to `nc` (already-linked ones are left as they are)."""
    _require_may_edit(user, nc)
    NONCONFORMITY_WORKFLOW.refuse_if_locked(nc, "link complaints")
    linked = {complaint.id for complaint in nc.complaints}
    new = [complaint for complaint in _complaints(complaint_ids) if complaint.id not in linked]
    _refuse_closed_complaints(new, user)
    for complaint in new:
        if complaint.id not in linked:
            nc.complaints.append(complaint)
    db.session.flush()
    return nc


def unlink_complaint(
    nc: Nonconformity, complaint_id: int, *, user: User | None = None
) -> Nonconformity:
    """Remove the link between `nc` and one complaint; refuses a complaint that is not linked."""
    _require_may_edit(user, nc)
    NONCONFORMITY_WORKFLOW.refuse_if_locked(nc, "remove complaint links")
    for complaint in nc.complaints:
        if complaint.id == complaint_id:
            nc.complaints.remove(complaint)
            db.session.flush()
            return nc
    raise ServiceError("That complaint is not linked to this nonconformity.", field="complaints")


# --- the workflow ----------------------------------------------------------------------------


def _check_transition(
    nc: Nonconformity, name: str, user: User, expected_version: object = None
) -> None:
    """Refuse before anything changes: NotPermitted for a user who may not act at all, then
    StaleRecord for a form made from an older version, then TransitionRefused for a state or
    guard that does not allow it now."""
    _require_may_edit(user, nc)
    item = NONCONFORMITY_WORKFLOW.get(name)
    if NONCONFORMITY_WORKFLOW.state_of(nc) in item.sources and not NONCONFORMITY_WORKFLOW.may_act(
        item, user, nc
    ):
        raise NotPermitted(f"Your role may not “{item.label}” this nonconformity.")
    if expected_version is not None:
        ensure_current_version(nc, expected_version, f"The nonconformity {nc.reference}")
    refused = NONCONFORMITY_WORKFLOW.refusal(item, nc, user)
    if refused:
        raise TransitionRefused(refused)


def transition_nonconformity(
    nc: Nonconformity,
    name: str,
    user: User,
    reason: str | None = None,
    *,
    expected_version: object = None,
) -> Nonconformity:
    """Fire workflow transition `name` (contain, investigate, plan_action, verify, cancel,
    reopen; cancel and reopen need a reason, and a reopen voids the closure signature).

    Closing needs a signature: use `close_nonconformity`. Cancelling needs a reason. Refusals
    say why (TransitionRefused); a user who may not act gets NotPermitted; a form made from an
    older version of `nc` gets StaleRecord."""
    if name == "close":
        _check_transition(nc, name, user, expected_version)
        raise TransitionRefused(
            "Closing a nonconformity needs your electronic signature: use the close form."
        )
    if name == "cancel":
        return cancel_nonconformity(nc, user, reason, expected_version=expected_version)
    _check_transition(nc, name, user, expected_version)
    reason = checked_text(reason, "The reason", "reason", REASON_MAX_LENGTH, required=False)
    return NONCONFORMITY_WORKFLOW.fire(nc, name, user, reason=reason or None)


def cancel_nonconformity(
    nc: Nonconformity, user: User, reason: str | None, *, expected_version: object = None
) -> Nonconformity:
    """Cancel `nc` (from any state but closed). The reason is required and kept on the record."""
    _check_transition(nc, "cancel", user, expected_version)
    reason = checked_text(
        reason, "A reason for cancelling", "reason", REASON_MAX_LENGTH, required=True
    )
    nc.cancel_reason = reason
    return NONCONFORMITY_WORKFLOW.fire(nc, "cancel", user, reason=reason)


def close_nonconformity(
    nc: Nonconformity,
    user: User,
    password: str,
    meaning: str,
    *,
    expected_version: object = None,
) -> Signature:
    """Close `nc` under the signer's electronic signature (purpose "nonconformity_closure").

    The signer re-enters their password and chooses the meaning. The closure and the signature
    land together or not at all: a refused transition or a wrong password leaves `nc` as it was
    (ServiceError on field "password" for the password). Returns the signature, which covers the
    closed record's content."""
    _check_transition(nc, "close", user, expected_version)
    with all_or_nothing(db.session):
        NONCONFORMITY_WORKFLOW.fire(nc, "close", user)
        return sign_record(nc, user, password, meaning, purpose=CLOSURE_PURPOSE)


# --- the list --------------------------------------------------------------------------------

SORT_COLUMNS = {
    "detected_at": Nonconformity.detected_at,
    "reference": Nonconformity.reference,
    "rpn": Nonconformity.rpn,
    "status": Nonconformity.status,
}
DEFAULT_SORT = "-detected_at"


@dataclass(frozen=True)
class NonconformityFilters:
    status: NonconformityStatus | None = None
    process_id: int | None = None
    category_id: int | None = None
    owner_id: int | None = None
    source: NonconformitySource | None = None
    detected_from: date | None = None
    detected_to: date | None = None
    overdue: bool = False
    rpn_band: str | None = None
    search: str | None = None
    sort: str | None = None


def nonconformity_list_query(
    filters: NonconformityFilters, now: datetime | None = None
) -> tuple[Select[tuple[Nonconformity]], str]:
    """The filtered, sorted list of nonconformities, with what each row shows loaded eagerly.

    Returns the statement (paginate or export it) and the sort key actually used. Dates are
    whole UTC days, both ends included; "overdue" means not closed or cancelled and detected more
    than 30 days ago; RPN bands are low < 100, medium 100–199, high ≥ 200; the search looks in the
    reference, title and description (any case)."""
    statement = select(Nonconformity).options(
        selectinload(Nonconformity.process),
        selectinload(Nonconformity.category),
        selectinload(Nonconformity.owner),
    )
    conditions = []
    if filters.status:
        conditions.append(Nonconformity.status == filters.status)
    if filters.process_id:
        conditions.append(Nonconformity.process_id == filters.process_id)
    if filters.category_id:
        conditions.append(Nonconformity.category_id == filters.category_id)
    if filters.owner_id:
        conditions.append(Nonconformity.owner_id == filters.owner_id)
    if filters.source:
        conditions.append(Nonconformity.source == filters.source)
    if filters.detected_from:
        start = datetime.combine(filters.detected_from, time.min, tzinfo=UTC)
        conditions.append(Nonconformity.detected_at >= start)
    if filters.detected_to:
        end = datetime.combine(filters.detected_to + timedelta(days=1), time.min, tzinfo=UTC)
        conditions.append(Nonconformity.detected_at < end)
    if filters.overdue:
        cutoff = (now or utcnow()) - timedelta(days=OVERDUE_AFTER_DAYS)
        conditions.append(Nonconformity.status.not_in(list(FINISHED_STATUSES)))
        conditions.append(Nonconformity.detected_at < cutoff)
    if filters.rpn_band in RPN_BANDS:
        low, high = RPN_BANDS[filters.rpn_band]
        conditions.append(Nonconformity.rpn >= low)
        if high is not None:
            conditions.append(Nonconformity.rpn <= high)
    search = (filters.search or "").strip()[:SEARCH_MAX_LENGTH]
    if search:
        conditions.append(
            or_(
                Nonconformity.reference.icontains(search, autoescape=True),
                Nonconformity.title.icontains(search, autoescape=True),
                Nonconformity.description.icontains(search, autoescape=True),
            )
        )
    if conditions:
        statement = statement.where(*conditions)
    return apply_sort(statement, filters.sort, SORT_COLUMNS, DEFAULT_SORT, Nonconformity.id)
