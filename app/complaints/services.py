"""Complaints and customer recovery: recording, editing, assigning and escalating complaints,
their workflow, the recovery actions that make the customer whole, satisfaction (CSAT) after
recovery and the retention follow-up. The filtered list, search and CSV export live in
`app.complaints.listing`.

Every function takes plain values and the acting user, checks the rules, changes records and
flushes; none commits (the request does). A refusal is a `ServiceError` naming the form field at
fault; after one, the caller rolls the session back (`app.core.forms.apply_service_error` does).
An action the user may not take on this complaint at all raises `EditNotAllowed` (views answer
403): quality leads act on every complaint, contributors only on those assigned to them, auditors
and administrators on none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from app.accounts.models import User
from app.complaints.models import (
    MONEY_RECOVERY_KINDS,
    Channel,
    Complaint,
    ComplaintStatus,
    RecoveryAction,
    RecoveryKind,
    RetentionStatus,
    Severity,
)
from app.complaints.workflow import COMPLAINT_WORKFLOW
from app.core.audit import AuditEvent, audit_reason
from app.core.db import ensure_current_version, flush_or_refuse_stale, utcnow
from app.core.errors import ServiceError, StaleRecord
from app.core.permissions import Permission, Role, role_can
from app.core.references import next_reference
from app.core.validation import (
    checked_choice,
    checked_money,
    checked_not_in_future,
    checked_text,
)
from app.core.workflow import Transition
from app.extensions import db
from app.organisation.models import Category, Customer, Process

TITLE_MAX_LENGTH = 200
PRODUCT_MAX_LENGTH = 200
# Far beyond real narratives (the longest consumer-finance narratives run to tens of thousands
# of characters): a complaint is never refused for being long (docs/import.md).
DESCRIPTION_MAX_LENGTH = 1_000_000
REGION_MAX_LENGTH = 60
COMMENT_MAX_LENGTH = 5_000
REASON_MAX_LENGTH = 2_000
MAX_ESCALATION_LEVEL = 3
RETENTION_MAX_DAYS = 3650
# Numeric(12, 2): ten digits before the decimal point.
AMOUNT_LIMIT = Decimal("10000000000")
# A complaint not resolved or closed this many days after it was received is overdue.
OVERDUE_AFTER_DAYS = 14

OPEN_STATUSES = frozenset(
    {
        ComplaintStatus.RECEIVED,
        ComplaintStatus.ACKNOWLEDGED,
        ComplaintStatus.INVESTIGATING,
        ComplaintStatus.REOPENED,
    }
)
RESOLVED_STATUSES = frozenset({ComplaintStatus.RESOLVED, ComplaintStatus.CLOSED})

# ISO 4217 codes of the currencies in circulation.
_ISO_CURRENCY_CODES = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP
    BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP
    GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR
    KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK
    MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR
    SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS
    UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
"""
ISO_CURRENCIES = frozenset(_ISO_CURRENCY_CODES.split())


class EditNotAllowed(ServiceError):
    """The user may not change this complaint at all (not a quality lead, not its assignee)."""


class DuplicateComplaint(ServiceError):
    """A complaint with the same source system and external id was taken in before."""

    def __init__(self, existing: Complaint) -> None:
        super().__init__(
            f"{existing.source_system} ticket {existing.external_id} was taken in before as "
            f"{existing.reference}.",
            field="external_id",
        )
        self.existing = existing


SOURCE_SYSTEM_MAX_LENGTH = 60
EXTERNAL_ID_MAX_LENGTH = 120


def find_by_source(source_system: str, external_id: str) -> Complaint | None:
    """The complaint taken in from `source_system` under `external_id`, if any."""
    return db.session.scalar(
        select(Complaint).where(
            Complaint.source_system == source_system, Complaint.external_id == external_id
        )
    )


def _source(source_system: str | None, external_id: str | None) -> tuple[str | None, str | None]:
    system = (source_system or "").strip()
    ident = (external_id or "").strip()
    for value, label, field, limit in (
        (system, "The source system", "source_system", SOURCE_SYSTEM_MAX_LENGTH),
        (ident, "The external id", "external_id", EXTERNAL_ID_MAX_LENGTH),
    ):
        if len(value) > limit:
            raise ServiceError(f"{label} may have at most {limit:,} characters.", field=field)
    if ident and not system:
        raise ServiceError(
            "Name the source system of the external id, such as zendesk.", field="source_system"
        )
    if system and ident:
        existing = find_by_source(system, ident)
        if existing is not None:
            raise DuplicateComplaint(existing)
    return system or None, ident or None


# --- who may act -------------------------------------------------------------------------------


def may_edit(user: Any, complaint: Complaint) -> bool:
    """Whether `user` may change `complaint`: a quality lead always, a contributor only while the
    complaint is assigned to them; auditors and administrators never."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if role_can(user.role, Permission.RECORDS_MANAGE):
        return True
    return (
        role_can(user.role, Permission.RECORDS_CREATE)
        and complaint.assignee_id is not None
        and complaint.assignee_id == user.id
    )


def _require_edit(user: Any, complaint: Complaint, action: str) -> None:
    if not may_edit(user, complaint):
        raise EditNotAllowed(
            f"Only a quality lead or the assignee of {complaint.reference} may {action}."
        )


def _refuse_if_closed(complaint: Complaint, action: str) -> None:
    COMPLAINT_WORKFLOW.refuse_if_locked(complaint, action)


def is_read_only(complaint: Complaint) -> bool:
    """Whether the complaint is closed: nothing about it changes until it is reopened (the
    retention follow-up excepted, which by its nature is recorded after closure)."""
    return COMPLAINT_WORKFLOW.is_locked(complaint)


# --- lookups and choices -----------------------------------------------------------------------


def get_by_reference(reference: str) -> Complaint | None:
    """The complaint with this reference (any case), with everything its page shows loaded."""
    return db.session.scalar(
        select(Complaint)
        .where(Complaint.reference == (reference or "").strip().upper())
        .options(
            selectinload(Complaint.customer),
            selectinload(Complaint.process),
            selectinload(Complaint.category),
            selectinload(Complaint.reporter),
            selectinload(Complaint.assignee),
            selectinload(Complaint.escalated_by),
            selectinload(Complaint.recovery_actions).selectinload(RecoveryAction.done_by),
        )
    )


WORKING_ROLES = (Role.QUALITY_LEAD, Role.CONTRIBUTOR)


def assignable_users(current_id: int | None = None) -> list[User]:
    """Who may be given a complaint (or be named as having done a recovery action): active quality
    leads and contributors, plus `current_id` when it is already chosen but no longer qualifies."""
    condition = User.active.is_(True) & User.role.in_(WORKING_ROLES)
    if current_id is not None:
        condition = condition | (User.id == current_id)
    return list(db.session.scalars(select(User).where(condition).order_by(User.full_name)))


# The complaint list's filter choices: statements built once, not on every list page.
_FILTER_PROCESSES = select(Process.id, Process.name).order_by(Process.name)
_FILTER_CATEGORIES = select(Category.id, Category.name).order_by(Category.name)
_FILTER_PEOPLE = (
    select(User.id, User.full_name).where(User.role.in_(WORKING_ROLES)).order_by(User.full_name)
)


def list_filter_choices() -> tuple[list[Any], list[Any], list[Any]]:
    """The complaint list's filter choices, by name: every process and every category as
    (id, name) rows, inactive ones too (older complaints carry them), and everyone a complaint
    can be assigned to, active or not, as (id, full_name) rows. Plain rows, not records: the
    filter shows names only."""
    processes = list(db.session.execute(_FILTER_PROCESSES))
    categories = list(db.session.execute(_FILTER_CATEGORIES))
    people = list(db.session.execute(_FILTER_PEOPLE))
    return processes, categories, people


def customer_choices(current_id: int | None = None) -> list[Customer]:
    condition = Customer.active.is_(True)
    if current_id is not None:
        condition = condition | (Customer.id == current_id)
    return list(db.session.scalars(select(Customer).where(condition).order_by(Customer.name)))


def process_choices(current_id: int | None = None, *, include_inactive: bool = False) -> list:
    statement = select(Process).order_by(Process.name)
    if not include_inactive:
        condition = Process.active.is_(True)
        if current_id is not None:
            condition = condition | (Process.id == current_id)
        statement = statement.where(condition)
    return list(db.session.scalars(statement))


def category_choices(current_id: int | None = None, *, include_inactive: bool = False) -> list:
    statement = select(Category).order_by(Category.name)
    if not include_inactive:
        condition = Category.active.is_(True)
        if current_id is not None:
            condition = condition | (Category.id == current_id)
        statement = statement.where(condition)
    return list(db.session.scalars(statement))


# --- shared checks -----------------------------------------------------------------------------


def _active_record(
    model: type[Customer] | type[Process] | type[Category],
    record_id: int | None,
    current_id: int | None,
    label: str,
    field: str,
) -> int | None:
    """`record_id` if it names an existing record that is active (or is the one already chosen)."""
    if record_id is None:
        return None
    record = db.session.get(model, record_id)
    if record is None:
        raise ServiceError(f"The chosen {label} does not exist.", field=field)
    if not record.active and record_id != current_id:
        raise ServiceError(
            f"The {label} {record.name} is inactive; choose an active one.", field=field
        )
    return record_id


def _working_user(
    user_id: int | None, current_id: int | None, label: str, field: str
) -> int | None:
    """`user_id` if it names an active quality lead or contributor (or the one already chosen)."""
    if user_id is None:
        return None
    person = db.session.get(User, user_id)
    if person is None:
        raise ServiceError(f"The chosen {label} does not exist.", field=field)
    if user_id == current_id:
        return user_id
    if not person.active:
        raise ServiceError(f"{person.full_name} is deactivated; choose someone else.", field=field)
    if person.role not in WORKING_ROLES:
        raise ServiceError(
            f"{person.full_name} is {person.role_label.lower()} and cannot work on complaints; "
            "choose a quality lead or a contributor.",
            field=field,
        )
    return user_id


def _flush(complaint: Complaint, *changed_relationships: str) -> None:
    """Flush; then forget `changed_relationships` whose keys were set by id, so reading them
    loads the new records rather than the ones loaded before."""
    flush_or_refuse_stale(db.session, f"Complaint {complaint.reference}")
    if changed_relationships:
        db.session.expire(complaint, list(changed_relationships))


# --- recording and editing ---------------------------------------------------------------------


def record_complaint(
    *,
    user: User,
    title: str,
    channel: Channel | str,
    severity: Severity | str,
    description: str = "",
    product_or_service: str = "",
    received_at: datetime | None = None,
    customer_id: int | None = None,
    process_id: int | None = None,
    category_id: int | None = None,
    assignee_id: int | None = None,
    source_system: str | None = None,
    external_id: str | None = None,
    timely_response: bool | None = None,
    disputed: bool | None = None,
    public_response: str | None = None,
    region: str | None = None,
) -> Complaint:
    """Record a complaint as `user` (its reporter), status "received".

    The reference is CMP-<year received>-<6 digits>, unique. `received_at` defaults to now and may
    not be in the future. Customer, process and category, if given, must exist and be active; the
    assignee must be an active quality lead or contributor. A complaint pushed in by another
    system carries its `source_system` and `external_id` (an external id needs its source); the
    same pair is taken in once only: a second time raises `DuplicateComplaint`. The source
    outcomes (timely response, dispute, public response, region) stay unknown (None) unless given.
    """
    if not role_can(user.role, Permission.RECORDS_CREATE):
        raise EditNotAllowed("Your role may not record complaints.")
    source, ident = _source(source_system, external_id)
    now = utcnow()
    complaint = Complaint(
        title=checked_text(title, "A title", "title", TITLE_MAX_LENGTH, required=True),
        channel=checked_choice(Channel, channel, "the channel", "channel"),
        severity=checked_choice(Severity, severity, "the severity", "severity"),
        description=checked_text(
            description, "The description", "description", DESCRIPTION_MAX_LENGTH, required=False
        ),
        product_or_service=checked_text(
            product_or_service,
            "The product or service",
            "product_or_service",
            PRODUCT_MAX_LENGTH,
            required=False,
        ),
        received_at=checked_not_in_future(
            received_at or now, "The time received", "received_at", now
        ),
        customer_id=_active_record(Customer, customer_id, None, "customer", "customer_id"),
        process_id=_active_record(Process, process_id, None, "process", "process_id"),
        category_id=_active_record(Category, category_id, None, "category", "category_id"),
        assignee_id=_working_user(assignee_id, None, "assignee", "assignee_id"),
        reporter_id=user.id,
        source_system=source,
        external_id=ident,
        status=ComplaintStatus.RECEIVED,
        escalation_level=0,
        first_contact_resolution=False,
        retention_status=RetentionStatus.UNKNOWN,
        timely_response=timely_response,
        disputed=disputed,
        public_response=checked_text(
            public_response,
            "The company's public response",
            "public_response",
            DESCRIPTION_MAX_LENGTH,
            required=False,
        )
        or None,
        region=checked_text(
            region, "The customer's region", "region", REGION_MAX_LENGTH, required=False
        )
        or None,
    )
    complaint.reference = next_reference(db.session, "CMP", complaint.received_at.year)
    db.session.add(complaint)
    db.session.flush()
    return complaint


def update_complaint(
    complaint: Complaint,
    *,
    user: User,
    title: str,
    description: str,
    product_or_service: str,
    customer_id: int | None,
    process_id: int | None,
    category_id: int | None,
    severity: Severity | str,
    channel: Channel | str,
    expected_version: object,
    region: str | None = None,
) -> Complaint:
    """Apply an edit of the complaint's descriptive fields; status, timestamps, reporter and
    assignee are never changed here. `region` None keeps the stored region ("" clears it); the
    other source outcomes (timely response, dispute, public response) are the source system's and
    never edited here. Refuses a stale form and edits of a closed complaint. A
    customer, process or category the complaint already has may stay when it became inactive."""
    _require_edit(user, complaint, "edit it")
    ensure_current_version(complaint, expected_version, f"Complaint {complaint.reference}")
    _refuse_if_closed(complaint, "edit it")
    values = {
        "title": checked_text(title, "A title", "title", TITLE_MAX_LENGTH, required=True),
        "description": checked_text(
            description, "The description", "description", DESCRIPTION_MAX_LENGTH, required=False
        ),
        "product_or_service": checked_text(
            product_or_service,
            "The product or service",
            "product_or_service",
            PRODUCT_MAX_LENGTH,
            required=False,
        ),
        "customer_id": _active_record(
            Customer, customer_id, complaint.customer_id, "customer", "customer_id"
        ),
        "process_id": _active_record(
            Process, process_id, complaint.process_id, "process", "process_id"
        ),
        "category_id": _active_record(
            Category, category_id, complaint.category_id, "category", "category_id"
        ),
        "severity": checked_choice(Severity, severity, "the severity", "severity"),
        "channel": checked_choice(Channel, channel, "the channel", "channel"),
    }
    if region is not None:
        values["region"] = (
            checked_text(
                region, "The customer's region", "region", REGION_MAX_LENGTH, required=False
            )
            or None
        )
    for name, value in values.items():
        setattr(complaint, name, value)
    _flush(complaint, "customer", "process", "category")
    return complaint


def assign_complaint(complaint: Complaint, assignee_id: int | None, *, user: User) -> Complaint:
    """Give the complaint to an active quality lead or contributor, or leave it unassigned (None).
    A contributor who holds it may hand it on; the change is in the audit trail."""
    _require_edit(user, complaint, "reassign it")
    _refuse_if_closed(complaint, "reassign it")
    complaint.assignee_id = _working_user(
        assignee_id, complaint.assignee_id, "assignee", "assignee_id"
    )
    _flush(complaint, "assignee")
    return complaint


def escalate_complaint(
    complaint: Complaint, level: int | str, *, user: User, reason: str
) -> Complaint:
    """Set the escalation level (0 = not escalated … 3 = highest), up or down, with a reason that
    goes into the audit trail; records who changed it and when."""
    _require_edit(user, complaint, "change its escalation")
    _refuse_if_closed(complaint, "change its escalation")
    try:
        new_level = int(level)
    except (TypeError, ValueError):
        new_level = -1
    if not 0 <= new_level <= MAX_ESCALATION_LEVEL:
        raise ServiceError(
            f"The escalation level is a whole number from 0 to {MAX_ESCALATION_LEVEL}.",
            field="level",
        )
    if new_level == complaint.escalation_level:
        raise ServiceError(
            f"{complaint.reference} is already at escalation level {new_level}.", field="level"
        )
    reason = checked_text(reason, "A reason", "reason", REASON_MAX_LENGTH, required=True)
    with audit_reason(reason):
        complaint.escalation_level = new_level
        complaint.escalated_by_id = user.id
        complaint.escalated_at = utcnow()
        _flush(complaint, "escalated_by")
    return complaint


# --- workflow ----------------------------------------------------------------------------------


def transition_complaint(
    complaint: Complaint, name: str, *, user: User, reason: str | None = None
) -> Complaint:
    """Fire workflow transition `name` (acknowledge, investigate, resolve, close, reopen).

    The workflow stamps first response, resolution and closure times and first-contact
    resolution; a refusal (wrong state, role, or a reopen without reason) says why.
    """
    _require_edit(user, complaint, "change its status")
    if reason is not None and len(reason.strip()) > REASON_MAX_LENGTH:
        raise ServiceError(
            f"A reason may have at most {REASON_MAX_LENGTH:,} characters.", field="reason"
        )
    try:
        return COMPLAINT_WORKFLOW.fire(complaint, name, user, reason=reason)
    except StaleDataError:
        raise StaleRecord(
            f"Complaint {complaint.reference} was changed by someone else just now. "
            "Reload the page and try again."
        ) from None


def available_transitions(complaint: Complaint, user: User) -> list[tuple[Transition, str | None]]:
    """The status buttons to show `user`: each transition with the reason it is refused now (None
    when it may be fired). Nothing for people who may not change the complaint."""
    if not may_edit(user, complaint):
        return []
    return COMPLAINT_WORKFLOW.available(complaint, user)


# --- customer recovery -------------------------------------------------------------------------


def _currency(value: str | None) -> str | None:
    code = (value or "").strip().upper()
    if not code:
        return None
    if code not in ISO_CURRENCIES:
        raise ServiceError(
            "Give an ISO 4217 currency code of three letters, such as EUR, GBP or USD.",
            field="currency",
        )
    return code


def add_recovery_action(
    complaint: Complaint,
    *,
    user: User,
    kind: RecoveryKind | str,
    description: str = "",
    amount: Decimal | int | str | None = None,
    currency: str | None = None,
    done_at: datetime | None = None,
    done_by_id: int | None = None,
) -> RecoveryAction:
    """Record what was done to make the customer whole.

    Refund, compensation and goodwill need an amount above 0 and an ISO 4217 currency; other kinds
    may carry a cost the same way (amount and currency together, or neither). "Other" needs a
    description. `done_at` defaults to now and lies between the complaint's receipt and now;
    `done_by_id` defaults to `user` and must be an active quality lead or contributor.
    """
    _require_edit(user, complaint, "record recovery actions")
    _refuse_if_closed(complaint, "record recovery actions")
    kind = checked_choice(RecoveryKind, kind, "the kind of recovery", "kind")
    description = checked_text(
        description,
        "A description",
        "description",
        COMMENT_MAX_LENGTH,
        required=kind == RecoveryKind.OTHER,
    )
    amount_value = checked_money(amount, "The amount", "amount", below=AMOUNT_LIMIT, positive=True)
    currency_code = _currency(currency)
    if kind in MONEY_RECOVERY_KINDS and amount_value is None:
        raise ServiceError(f"A {kind.label.lower()} needs the amount paid.", field="amount")
    if amount_value is not None and currency_code is None:
        raise ServiceError("Give the currency of the amount, such as EUR.", field="currency")
    if currency_code is not None and amount_value is None:
        raise ServiceError(
            f"Give the amount in {currency_code}, or leave the currency empty.", field="amount"
        )
    now = utcnow()
    done_at = checked_not_in_future(done_at or now, "The time it was done", "done_at", now)
    if done_at < complaint.received_at:
        raise ServiceError(
            "A recovery action cannot be done before the complaint was received "
            f"({complaint.received_at:%Y-%m-%d %H:%M} UTC).",
            field="done_at",
        )
    action = RecoveryAction(
        complaint=complaint,
        kind=kind,
        description=description,
        amount=amount_value,
        currency=currency_code,
        done_at=done_at,
        done_by_id=_working_user(
            done_by_id if done_by_id is not None else user.id, None, "person", "done_by_id"
        ),
    )
    db.session.add(action)
    db.session.flush()
    return action


def _require_resolution(complaint: Complaint, what: str, field: str) -> None:
    if complaint.status not in RESOLVED_STATUSES:
        raise ServiceError(
            f"{what} can be recorded once the complaint is resolved or closed; "
            f"{complaint.reference} is {complaint.status.label.lower()}.",
            field=field,
        )


def record_satisfaction(
    complaint: Complaint, *, user: User, score: int | str, comment: str = ""
) -> Complaint:
    """Record the customer's satisfaction after recovery: CSAT 1 (very dissatisfied) to 5 (very
    satisfied) and a comment. Only once the complaint is resolved or closed; recording again
    replaces the earlier answer (both stay in the audit trail)."""
    _require_edit(user, complaint, "record satisfaction")
    _refuse_if_closed(complaint, "record satisfaction")
    _require_resolution(complaint, "Satisfaction", "score")
    try:
        value = int(score)
    except (TypeError, ValueError):
        value = 0
    if not 1 <= value <= 5:
        raise ServiceError("The CSAT score is a whole number from 1 to 5.", field="score")
    complaint.csat_score = value
    complaint.csat_comment = checked_text(
        comment, "The comment", "comment", COMMENT_MAX_LENGTH, required=False
    )
    complaint.csat_recorded_at = utcnow()
    _flush(complaint)
    return complaint


def record_retention(
    complaint: Complaint,
    *,
    user: User,
    status: RetentionStatus | str,
    follow_up_days: int | str,
) -> Complaint:
    """Record the retention follow-up: whether the customer stayed, left or is unknown N days
    after the resolution (1–3650). Only once the complaint is resolved or closed; "stayed" can be
    said only when N days have passed since the resolution. The one change a closed complaint
    takes: the follow-up is due after the resolution, usually after the closure."""
    _require_edit(user, complaint, "record the retention follow-up")
    _require_resolution(complaint, "The retention follow-up", "status")
    retention = checked_choice(RetentionStatus, status, "whether the customer stayed", "status")
    try:
        days = int(follow_up_days)
    except (TypeError, ValueError):
        days = 0
    if not 1 <= days <= RETENTION_MAX_DAYS:
        raise ServiceError(
            f"The follow-up is a whole number of days from 1 to {RETENTION_MAX_DAYS}.",
            field="follow_up_days",
        )
    now = utcnow()
    # An imported complaint may be resolved at a time its source did not give: it was resolved
    # by the time it came in, at the latest.
    resolved_at = complaint.resolved_at or complaint.created_at or now
    due = resolved_at + timedelta(days=days)
    if retention == RetentionStatus.STAYED and due > now:
        raise ServiceError(
            f"The {days}-day follow-up is due on {due:%Y-%m-%d}; until then nobody can say the "
            "customer stayed that long.",
            field="follow_up_days",
        )
    complaint.retention_status = retention
    complaint.retention_follow_up_days = days
    complaint.retention_checked_at = now
    _flush(complaint)
    return complaint


# --- what the complaint page shows -------------------------------------------------------------


@dataclass(frozen=True)
class ResponseTimes:
    first_response: timedelta | None
    resolution: timedelta | None


def response_times(complaint: Complaint) -> ResponseTimes:
    """Time from receipt to first response and to resolution (None while not reached)."""

    def since_received(moment: datetime | None) -> timedelta | None:
        return moment - complaint.received_at if moment else None

    return ResponseTimes(
        since_received(complaint.first_response_at), since_received(complaint.resolved_at)
    )


def format_duration(delta: timedelta | None) -> str:
    """'2 d 3 h', '4 h 10 min', '25 min', 'under a minute'; '—' for None."""
    if delta is None:
        return "—"
    minutes = max(0, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min" if minutes else "under a minute"


def is_overdue(
    complaint: Complaint, now: datetime | None = None, days: int = OVERDUE_AFTER_DAYS
) -> bool:
    """Not resolved or closed, and received more than `days` days ago."""
    now = now or utcnow()
    return complaint.status in OPEN_STATUSES and complaint.received_at < now - timedelta(days=days)


def recovery_costs(complaint: Complaint) -> dict[str, Decimal]:
    """What the customer recovery of `complaint` cost, summed per currency."""
    totals: dict[str, Decimal] = {}
    for action in complaint.recovery_actions:
        if action.amount is not None and action.currency:
            totals[action.currency] = totals.get(action.currency, Decimal("0")) + action.amount
    return dict(sorted(totals.items()))


def complaint_history(complaint: Complaint) -> list[AuditEvent]:
    """The audit events of the complaint and of its recovery actions, oldest first."""
    action_ids = [str(action.id) for action in complaint.recovery_actions]
    condition = (AuditEvent.record_type == "complaint") & (
        AuditEvent.record_id == str(complaint.id)
    )
    if action_ids:
        condition = condition | (
            (AuditEvent.record_type == "recovery_action") & AuditEvent.record_id.in_(action_ids)
        )
    return list(db.session.scalars(select(AuditEvent).where(condition).order_by(AuditEvent.id)))
