"""The complaint list: its filters, full-text search, sort orders and the CSV export."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Row, Select, bindparam, case, or_, select
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.complaints.models import (
    Channel,
    Complaint,
    ComplaintStatus,
    Severity,
)
from app.complaints.services import OPEN_STATUSES, OVERDUE_AFTER_DAYS
from app.core import search
from app.core.audit import AuditAction, record_event
from app.core.db import utcnow
from app.core.listing import apply_sort, batched_rows
from app.extensions import db
from app.organisation.models import Category, Customer, Process


@dataclass(frozen=True)
class ComplaintFilters:
    """What the complaint list may be narrowed by; empty values do not filter."""

    statuses: tuple[ComplaintStatus, ...] = ()
    process_id: int | None = None
    category_id: int | None = None
    assignee_id: int | None = None
    channel: Channel | None = None
    severity: Severity | None = None
    received_from: date | None = None
    received_to: date | None = None
    overdue: bool = False
    overdue_days: int = OVERDUE_AFTER_DAYS
    text: str = ""
    now: datetime | None = None

    def describe(self) -> dict[str, Any]:
        """The filters in use, as plain values (for the export's audit event)."""
        values = {
            "status": [status.value for status in self.statuses],
            "process_id": self.process_id,
            "category_id": self.category_id,
            "assignee_id": self.assignee_id,
            "channel": self.channel.value if self.channel else None,
            "severity": self.severity.value if self.severity else None,
            "received_from": self.received_from.isoformat() if self.received_from else None,
            "received_to": self.received_to.isoformat() if self.received_to else None,
            "overdue_days": self.overdue_days if self.overdue else None,
            "text": self.text or None,
        }
        return {key: value for key, value in values.items() if value not in (None, [])}


# Kept current by database triggers (see the complaint_search migration), so every write path —
# forms, API, import, bulk seeding, a customer's rename — updates it without the services' help.
COMPLAINT_INDEX = search.SearchIndex(table="complaint_search", key="complaint_id")


def search_complaints(query: str) -> list[int]:
    """The ids of complaints whose reference, title, description, external id or customer
    name holds every word of `query`, best first (none when the query has no words)."""
    return search.matching_ids(COMPLAINT_INDEX, query)


def search_clause(query: str) -> Any:
    """A WHERE clause for the list's "Search": complaints whose reference, title, description,
    external id or customer name holds every word of `query` (full-text, whole words), or whose
    reference is `query` as typed. Read from the index alone: no scan of the complaints (a
    substring match would read every row of a million)."""
    typed = query.replace("\x00", "").strip()
    return or_(
        Complaint.reference == typed.upper(),
        search.matching_clause(COMPLAINT_INDEX, typed, Complaint.id),
    )


_SEVERITY_RANK = case(
    {severity: rank for rank, severity in enumerate(Severity)}, value=Complaint.severity
)
_STATUS_RANK = case(
    {status: rank for rank, status in enumerate(ComplaintStatus)}, value=Complaint.status
)
SORT_COLUMNS = {
    "received_at": Complaint.received_at,
    "reference": Complaint.reference,
    "severity": _SEVERITY_RANK,
    "status": _STATUS_RANK,
}
DEFAULT_SORT = "-received_at"


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def complaint_list_query(
    filters: ComplaintFilters, sort: str | None = None
) -> tuple[Select[tuple[Complaint]], str]:
    """The filtered, sorted complaint list as a statement (paginate or export it), and the sort
    key used. Sort keys: received_at, reference, severity (low → critical), status (workflow
    order); a leading "-" reverses; anything else falls back to newest first. The customer,
    process, category and assignee of each row are loaded with it."""
    statement = select(Complaint).options(
        selectinload(Complaint.customer),
        selectinload(Complaint.process),
        selectinload(Complaint.category),
        selectinload(Complaint.assignee),
    )
    if filters.statuses:
        statement = statement.where(Complaint.status.in_(filters.statuses))
    if filters.process_id is not None:
        statement = statement.where(Complaint.process_id == filters.process_id)
    if filters.category_id is not None:
        statement = statement.where(Complaint.category_id == filters.category_id)
    if filters.assignee_id is not None:
        statement = statement.where(Complaint.assignee_id == filters.assignee_id)
    if filters.channel is not None:
        statement = statement.where(Complaint.channel == filters.channel)
    if filters.severity is not None:
        statement = statement.where(Complaint.severity == filters.severity)
    if filters.received_from is not None:
        statement = statement.where(Complaint.received_at >= _day_start(filters.received_from))
    if filters.received_to is not None:
        end = _day_start(filters.received_to + timedelta(days=1))
        statement = statement.where(Complaint.received_at < end)
    if filters.overdue:
        cutoff = (filters.now or utcnow()) - timedelta(days=filters.overdue_days)
        statement = statement.where(
            Complaint.status.in_(OPEN_STATUSES), Complaint.received_at < cutoff
        )
    if filters.text.strip():
        statement = statement.where(search_clause(filters.text))
    return apply_sort(statement, sort, SORT_COLUMNS, DEFAULT_SORT, Complaint.id)


def complaint_list_rows(ids: Sequence[int]) -> list[Row[Any]]:
    """What the list page shows of the complaints `ids`, in that order: one narrow row each (id,
    reference, title, received_at, status, severity, escalation_level, and the customer_name,
    process_name, category_name and assignee_name, None where there is none), read in one
    statement without building whole records, so a page of 50 costs a fraction of loading
    the complaints and their four relations."""
    by_id = {row.id: row for row in db.session.execute(_LIST_ROWS, {"ids": list(ids)})}
    return [by_id[complaint_id] for complaint_id in ids if complaint_id in by_id]


def with_linked_names(
    statement: Select[Any],
    *,
    customer: Any = Customer,
    process: Any = Process,
    category: Any = Category,
    assignee: Any = User,
) -> Select[Any]:
    """`statement` over complaints with the names of what each complaint points at, joined in
    (customer_name, process_name, category_name, assignee_name; None where there is none).
    Aliases may stand for the four models where the statement joins them already."""
    return (
        statement.add_columns(
            customer.name.label("customer_name"),
            process.name.label("process_name"),
            category.name.label("category_name"),
            assignee.full_name.label("assignee_name"),
        )
        .outerjoin(customer, customer.id == Complaint.customer_id)
        .outerjoin(process, process.id == Complaint.process_id)
        .outerjoin(category, category.id == Complaint.category_id)
        .outerjoin(assignee, assignee.id == Complaint.assignee_id)
    )


# complaint_list_rows' statement, built once (building it cost more than running it).
_LIST_ROWS = with_linked_names(
    select(
        Complaint.id,
        Complaint.reference,
        Complaint.title,
        Complaint.received_at,
        Complaint.status,
        Complaint.severity,
        Complaint.escalation_level,
    )
).where(Complaint.id.in_(bindparam("ids", expanding=True)))


CSV_HEADER = (
    "Reference",
    "Received at (UTC)",
    "Title",
    "Channel",
    "Severity",
    "Status",
    "Customer",
    "Product or service",
    "Process",
    "Category",
    "Assignee",
    "Escalation level",
    "First response at (UTC)",
    "Resolved at (UTC)",
    "Closed at (UTC)",
    "First-contact resolution",
    "CSAT",
    "Retention",
    "Timely response",
    "Disputed",
    "Company's public response",
    "Customer's region",
)


def _csv_time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""


def csv_values(complaint: Complaint) -> tuple[Any, ...]:
    """One complaint as a row under CSV_HEADER."""
    return (
        complaint.reference,
        _csv_time(complaint.received_at),
        complaint.title,
        complaint.channel.label,
        complaint.severity.label,
        complaint.status.label,
        complaint.customer.name if complaint.customer else "",
        complaint.product_or_service,
        complaint.process.name if complaint.process else "",
        complaint.category.name if complaint.category else "",
        complaint.assignee.full_name if complaint.assignee else "",
        complaint.escalation_level,
        _csv_time(complaint.first_response_at),
        _csv_time(complaint.resolved_at),
        _csv_time(complaint.closed_at),
        _YES_NO[complaint.first_contact_resolution],
        complaint.csat_score if complaint.csat_score is not None else "",
        complaint.retention_status.label,
        _YES_NO[complaint.timely_response],
        _YES_NO[complaint.disputed],
        complaint.public_response or "",
        complaint.region or "",
    )


_YES_NO = {True: "yes", False: "no", None: "unknown"}


def export_complaints(filters: ComplaintFilters, sort: str | None = None) -> Iterator[Complaint]:
    """The filtered list for a CSV download, read a batch at a time; the export itself is written
    to the audit trail (who exported which filters)."""
    statement, used_sort = complaint_list_query(filters, sort)
    record_event(
        db.session,
        AuditAction.EXPORT,
        "complaint",
        changes={"format": "csv", "sort": used_sort, "filters": filters.describe()},
    )
    return batched_rows(db.session, statement)
