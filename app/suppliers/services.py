"""The supplier register: suppliers, their approval status, the failures attributed to them and
the scorecard computed from those records.

Services change records and flush; the request commits. Every change lands in the audit trail
(the models are `Audited`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import case, extract, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.capa.models import Capa, CapaStatus
from app.complaints import services as complaint_services
from app.complaints.models import Complaint
from app.core.db import ensure_current_version, flush_or_refuse_stale, utcnow
from app.core.errors import NotPermitted, ServiceError
from app.core.permissions import Permission, role_can
from app.core.validation import checked_text
from app.extensions import db
from app.nonconformities import services as nc_services
from app.nonconformities.models import Nonconformity
from app.organisation.models import Process
from app.suppliers.models import (
    OPEN_SCAR_STATES,
    WAITING_FOR_SUPPLIER,
    ComplaintAttribution,
    NonconformityAttribution,
    Scar,
    Supplier,
    SupplierStatus,
)
from app.suppliers.workflow import SUPPLIER_WORKFLOW

NAME_MAX_LENGTH = 200
TEXT_MAX_LENGTH = 4000
REASON_MAX_LENGTH = 2000
PERIOD_MONTHS = (3, 6, 12, 24)
DEFAULT_PERIOD_MONTHS = 12


def may_manage(user: User | None) -> bool:
    """Quality leads keep the register, attribute failures and send SCARs."""
    return user is not None and role_can(user.role, Permission.RECORDS_MANAGE)


def _require_manage(user: User | None, action: str) -> None:
    if user is not None and not may_manage(user):
        raise NotPermitted(f"Only a quality lead may {action}.")


def get_supplier(supplier_id: int) -> Supplier | None:
    return db.session.get(Supplier, supplier_id)


def list_suppliers(status: SupplierStatus | None = None) -> list[Supplier]:
    statement = select(Supplier).options(selectinload(Supplier.processes)).order_by(Supplier.name)
    if status is not None:
        statement = statement.where(Supplier.status == status)
    return list(db.session.scalars(statement))


def process_choices() -> list[Process]:
    return list(db.session.scalars(select(Process).order_by(Process.name)))


def _checked_email(value: str | None) -> str:
    text = (value or "").strip()
    if not text:
        return ""
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError:
        raise ServiceError("Enter a valid e-mail address.", field="contact_email") from None


def _checked_processes(process_ids: Iterable[int]) -> list[Process]:
    wanted = sorted(set(process_ids))
    if not wanted:
        return []
    found = list(db.session.scalars(select(Process).where(Process.id.in_(wanted))))
    if len(found) != len(wanted):
        raise ServiceError("Choose processes from the list.", field="process_ids")
    return found


def _checked_name(name: str, current: Supplier | None = None) -> str:
    text = checked_text(name, "The name", "name", NAME_MAX_LENGTH)
    clash = db.session.scalar(select(Supplier.id).where(func.lower(Supplier.name) == text.lower()))
    if clash is not None and (current is None or clash != current.id):
        raise ServiceError(f"There is already a supplier called {text}.", field="name")
    return text


def _checked_status(status: SupplierStatus | str) -> SupplierStatus:
    try:
        return SupplierStatus(status)
    except ValueError:
        raise ServiceError(
            "Choose approved, conditional or disqualified.", field="status"
        ) from None


def create_supplier(
    *,
    name: str,
    contact_name: str = "",
    contact_email: str = "",
    supplies: str = "",
    process_ids: Iterable[int] = (),
    status: SupplierStatus | str = SupplierStatus.APPROVED,
    status_reason: str = "",
    user: User | None = None,
) -> Supplier:
    """Add a supplier to the register. A status other than approved needs its reason; the
    status date is today. Refuses a duplicate name (case-insensitive) and a malformed e-mail."""
    _require_manage(user, "add a supplier")
    chosen = _checked_status(status)
    reason = checked_text(
        status_reason,
        "The reason for the status",
        "status_reason",
        REASON_MAX_LENGTH,
        required=chosen != SupplierStatus.APPROVED,
    )
    supplier = Supplier(
        name=_checked_name(name),
        contact_name=checked_text(
            contact_name, "The contact name", "contact_name", NAME_MAX_LENGTH, required=False
        ),
        contact_email=_checked_email(contact_email),
        supplies=checked_text(
            supplies, "What they supply", "supplies", TEXT_MAX_LENGTH, required=False
        ),
        status=chosen,
        status_reason=reason,
        status_since=utcnow().date(),
    )
    supplier.processes = _checked_processes(process_ids)
    db.session.add(supplier)
    db.session.flush()
    return supplier


def update_supplier(
    supplier: Supplier,
    *,
    expected_version: object,
    name: str,
    contact_name: str = "",
    contact_email: str = "",
    supplies: str = "",
    process_ids: Iterable[int] = (),
    user: User | None = None,
) -> Supplier:
    """Edit the supplier's details (the approval status changes through `change_status`).
    Refuses a stale form (StaleRecord), a duplicate name and a malformed e-mail."""
    _require_manage(user, "edit a supplier")
    label = f"The supplier {supplier.name}"
    ensure_current_version(supplier, expected_version, label)
    supplier.name = _checked_name(name, supplier)
    supplier.contact_name = checked_text(
        contact_name, "The contact name", "contact_name", NAME_MAX_LENGTH, required=False
    )
    supplier.contact_email = _checked_email(contact_email)
    supplier.supplies = checked_text(
        supplies, "What they supply", "supplies", TEXT_MAX_LENGTH, required=False
    )
    supplier.processes = _checked_processes(process_ids)
    flush_or_refuse_stale(db.session, label)
    return supplier


def change_status(
    supplier: Supplier, name: str, reason: str, *, user: User, expected_version: object
) -> Supplier:
    """Fire an approval transition (approve, make_conditional, disqualify) with its reason; the
    reason and today's date are kept on the supplier, and the change is in the audit trail."""
    label = f"The supplier {supplier.name}"
    ensure_current_version(supplier, expected_version, label)
    text = checked_text(reason, "A reason", "reason", REASON_MAX_LENGTH)
    supplier.status_reason = text
    SUPPLIER_WORKFLOW.fire(supplier, name, user, reason=text)
    flush_or_refuse_stale(db.session, label)
    return supplier


# --- attribution -------------------------------------------------------------------------------


def supplier_of_nonconformity(nonconformity_id: int) -> Supplier | None:
    return db.session.scalar(
        select(Supplier)
        .join(NonconformityAttribution, NonconformityAttribution.supplier_id == Supplier.id)
        .where(NonconformityAttribution.nonconformity_id == nonconformity_id)
    )


def supplier_of_complaint(complaint_id: int) -> Supplier | None:
    return db.session.scalar(
        select(Supplier)
        .join(ComplaintAttribution, ComplaintAttribution.supplier_id == Supplier.id)
        .where(ComplaintAttribution.complaint_id == complaint_id)
    )


def _find_record(kind: str, reference: str) -> Nonconformity | Complaint:
    text = (reference or "").strip().upper()
    if kind == "nonconformity":
        nc = nc_services.get_by_reference(text) if text else None
        if nc is None:
            raise ServiceError(f"There is no nonconformity {text or '(empty)'}.", field="reference")
        return nc
    if kind == "complaint":
        complaint = complaint_services.get_by_reference(text) if text else None
        if complaint is None:
            raise ServiceError(f"There is no complaint {text or '(empty)'}.", field="reference")
        return complaint
    raise ServiceError("Choose a nonconformity or a complaint.", field="kind")


def attribute(supplier: Supplier, kind: str, reference: str, *, user: User | None) -> str:
    """Attribute the nonconformity or complaint `reference` to `supplier`; returns its reference.
    Refuses one already attributed (to this or another supplier): remove that first."""
    _require_manage(user, "attribute failures to suppliers")
    record = _find_record(kind, reference)
    if isinstance(record, Nonconformity):
        current = supplier_of_nonconformity(record.id)
        link: NonconformityAttribution | ComplaintAttribution = NonconformityAttribution(
            supplier_id=supplier.id, nonconformity_id=record.id
        )
    else:
        current = supplier_of_complaint(record.id)
        link = ComplaintAttribution(supplier_id=supplier.id, complaint_id=record.id)
    if current is not None:
        raise ServiceError(
            f"{record.reference} is already attributed to {current.name}.", field="reference"
        )
    db.session.add(link)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:  # attributed by someone else a moment ago
        raise ServiceError(
            f"{record.reference} was attributed to a supplier meanwhile; reload the page.",
            field="reference",
        ) from None
    return record.reference


def remove_attribution(supplier: Supplier, kind: str, reference: str, *, user: User | None) -> str:
    """Take the nonconformity or complaint `reference` off `supplier`. Refuses a nonconformity
    with an open or accepted SCAR to this supplier (cancel the SCAR first)."""
    _require_manage(user, "change attributions")
    record = _find_record(kind, reference)
    model = NonconformityAttribution if isinstance(record, Nonconformity) else ComplaintAttribution
    column = (
        NonconformityAttribution.nonconformity_id
        if model is NonconformityAttribution
        else ComplaintAttribution.complaint_id
    )
    link = db.session.scalar(
        select(model).where(column == record.id, model.supplier_id == supplier.id)
    )
    if link is None:
        raise ServiceError(f"{record.reference} is not attributed to {supplier.name}.")
    if isinstance(record, Nonconformity):
        scar = db.session.scalar(
            select(Scar.reference).where(
                Scar.nonconformity_id == record.id,
                Scar.supplier_id == supplier.id,
                Scar.status.not_in(["cancelled"]),
            )
        )
        if scar is not None:
            raise ServiceError(
                f"{record.reference} has the SCAR {scar}: cancel it before you remove the "
                "attribution."
            )
    db.session.delete(link)
    db.session.flush()
    return record.reference


def attributed_nonconformities(supplier: Supplier) -> list[Nonconformity]:
    return list(
        db.session.scalars(
            select(Nonconformity)
            .join(
                NonconformityAttribution,
                NonconformityAttribution.nonconformity_id == Nonconformity.id,
            )
            .where(NonconformityAttribution.supplier_id == supplier.id)
            .order_by(Nonconformity.detected_at.desc())
        )
    )


def attributed_complaints(supplier: Supplier) -> list[Complaint]:
    return list(
        db.session.scalars(
            select(Complaint)
            .join(ComplaintAttribution, ComplaintAttribution.complaint_id == Complaint.id)
            .where(ComplaintAttribution.supplier_id == supplier.id)
            .order_by(Complaint.received_at.desc())
        )
    )


# --- the scorecard -----------------------------------------------------------------------------


@dataclass
class Scorecard:
    """A supplier's performance over a period, computed from the records."""

    nonconformities: int = 0
    complaints: int = 0
    scars_open: int = 0
    scars_overdue: int = 0
    # SCARs sent in the period whose answer is in or whose due date has passed.
    responses_due: int = 0
    responses_on_time: int = 0
    # Accepted SCARs whose CAPA reached a verdict, and how many of those were effective.
    actions_judged: int = 0
    actions_effective: int = 0

    @property
    def on_time_rate(self) -> float | None:
        return self.responses_on_time / self.responses_due if self.responses_due else None

    @property
    def effectiveness_rate(self) -> float | None:
        return self.actions_effective / self.actions_judged if self.actions_judged else None


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @property
    def label(self) -> str:
        return f"{self.start:%Y-%m-%d} to {self.end:%Y-%m-%d}"

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=UTC)

    @property
    def end_at(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=UTC)


def period_of(months: int, today: date | None = None) -> Period:
    """The last `months` months up to and including today."""
    today = today or utcnow().date()
    year, month = today.year, today.month - months
    while month <= 0:
        month += 12
        year -= 1
    day = min(today.day, 28)
    return Period(date(year, month, day) + timedelta(days=1), today)


def _end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)


def scorecards(
    supplier_ids: Iterable[int], period: Period, today: date | None = None
) -> dict[int, Scorecard]:
    """Each supplier's scorecard for `period`, with a fixed number of grouped queries whatever
    the number of suppliers: nonconformities (by detection date) and complaints (by receipt)
    attributed in the period; SCARs open and overdue now; on-time response rate of SCARs sent in
    the period (once answered or past due); effectiveness of the CAPAs accepted SCARs led to."""
    today = today or utcnow().date()
    ids = sorted(set(supplier_ids))
    cards = {ident: Scorecard() for ident in ids}
    if not ids:
        return cards
    nc_counts = db.session.execute(
        select(NonconformityAttribution.supplier_id, func.count())
        .join(Nonconformity, Nonconformity.id == NonconformityAttribution.nonconformity_id)
        .where(
            NonconformityAttribution.supplier_id.in_(ids),
            Nonconformity.detected_at >= period.start_at,
            Nonconformity.detected_at < period.end_at,
        )
        .group_by(NonconformityAttribution.supplier_id)
    )
    for ident, number in nc_counts:
        cards[ident].nonconformities = number
    complaint_counts = db.session.execute(
        select(ComplaintAttribution.supplier_id, func.count())
        .join(Complaint, Complaint.id == ComplaintAttribution.complaint_id)
        .where(
            ComplaintAttribution.supplier_id.in_(ids),
            Complaint.received_at >= period.start_at,
            Complaint.received_at < period.end_at,
        )
        .group_by(ComplaintAttribution.supplier_id)
    )
    for ident, number in complaint_counts:
        cards[ident].complaints = number
    past_due = func.sum(case((Scar.due_date < today, 1), else_=0))
    open_counts = db.session.execute(
        select(Scar.supplier_id, Scar.status, func.count(), past_due)
        .where(Scar.supplier_id.in_(ids), Scar.status.in_(OPEN_SCAR_STATES))
        .group_by(Scar.supplier_id, Scar.status)
    )
    for ident, status, number, overdue in open_counts:
        cards[ident].scars_open += number
        if status in WAITING_FOR_SUPPLIER:
            cards[ident].scars_overdue += int(overdue or 0)
    responses = db.session.execute(
        select(Scar.supplier_id, Scar.due_date, Scar.first_answered_at).where(
            Scar.supplier_id.in_(ids),
            Scar.created_at >= period.start_at,
            Scar.created_at < period.end_at,
            Scar.status != "cancelled",
        )
    )
    for ident, due, answered_at in responses:
        if answered_at is None and due >= today:
            continue  # not due yet and not answered: neither on time nor late
        cards[ident].responses_due += 1
        if answered_at is not None and answered_at < _end_of(due):
            cards[ident].responses_on_time += 1
    verdicts = db.session.execute(
        select(Scar.supplier_id, Capa.status, func.count())
        .join(Capa, Capa.id == Scar.capa_id)
        .where(
            Scar.supplier_id.in_(ids),
            Capa.status.in_([CapaStatus.EFFECTIVE, CapaStatus.CLOSED, CapaStatus.INEFFECTIVE]),
        )
        .group_by(Scar.supplier_id, Capa.status)
    )
    for ident, status, number in verdicts:
        cards[ident].actions_judged += number
        if status != CapaStatus.INEFFECTIVE:
            cards[ident].actions_effective += number
    return cards


@dataclass
class QuarterRow:
    label: str
    nonconformities: int = 0
    complaints: int = 0


def quarterly_counts(
    supplier: Supplier, quarters: int = 4, today: date | None = None
) -> list[QuarterRow]:
    """Nonconformities and complaints attributed to `supplier` per calendar quarter, the last
    `quarters` quarters up to today's (two grouped queries)."""
    today = today or utcnow().date()
    keys: list[tuple[int, int]] = []
    year, quarter = today.year, (today.month - 1) // 3 + 1
    for _ in range(quarters):
        keys.append((year, quarter))
        quarter -= 1
        if quarter == 0:
            year, quarter = year - 1, 4
    keys.reverse()
    first_year, first_quarter = keys[0]
    start = datetime(first_year, (first_quarter - 1) * 3 + 1, 1, tzinfo=UTC)
    rows = {key: QuarterRow(f"{key[0]} Q{key[1]}") for key in keys}
    counted = defaultdict(lambda: [0, 0])
    sources = (
        (
            0,
            Nonconformity.detected_at,
            NonconformityAttribution,
            Nonconformity.id,
            NonconformityAttribution.nonconformity_id,
        ),
        (
            1,
            Complaint.received_at,
            ComplaintAttribution,
            Complaint.id,
            ComplaintAttribution.complaint_id,
        ),
    )
    for index, moment, link, record_id, link_record_id in sources:
        year_of = extract("year", moment)
        month_of = extract("month", moment)
        result = db.session.execute(
            select(year_of, month_of, func.count())
            .select_from(link)
            .join(record_id.class_, record_id == link_record_id)
            .where(link.supplier_id == supplier.id, moment >= start)
            .group_by(year_of, month_of)
        )
        for got_year, got_month, number in result:
            counted[(int(got_year), (int(got_month) - 1) // 3 + 1)][index] += number
    for key, (ncs, complaints) in counted.items():
        if key in rows:
            rows[key].nonconformities = ncs
            rows[key].complaints = complaints
    return [rows[key] for key in keys]
