"""What the API reads and writes, on top of the domain services: keyset (cursor) pagination of
complaints, nonconformities and CAPAs, customers by external id, and the records as API schemas.

Business rules stay in the domain services (`app.complaints.services`,
`app.organisation.services`); this module only finds records and shapes them.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any

from flask import g, url_for
from sqlalchemy import Row, Select, bindparam, select
from sqlalchemy.orm import aliased, joinedload, selectinload

from app.accounts.models import User
from app.api import API_PREFIX
from app.api.schemas import (
    CapaOut,
    CapaQuery,
    ComplaintOut,
    ComplaintQuery,
    CustomerIn,
    CustomerOut,
    CustomerRef,
    Links,
    NamedRef,
    NonconformityOut,
    NonconformityQuery,
    RecoveryActionOut,
    RetentionOut,
    SatisfactionOut,
)
from app.capa.models import Capa
from app.complaints.listing import search_clause, with_linked_names
from app.complaints.models import Complaint, RecoveryAction
from app.core.errors import ServiceError
from app.extensions import db
from app.nonconformities.models import Nonconformity, complaint_nonconformity
from app.organisation import services as organisation
from app.organisation.models import Category, Customer, Process


class BadCursor(ServiceError):
    """The cursor was not one this API handed out."""


# --- cursors -------------------------------------------------------------------------------------


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, value = text.partition(":")
        if prefix != "id" or not value.isdigit() or len(value) > 12:
            raise ValueError
        return int(value)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadCursor(
            "The cursor is not one this API handed out; start again without it.", field="cursor"
        ) from None


def _keyset(statement: Select[Any], model: Any, limit: int, cursor: str | None) -> Select[Any]:
    """Newest first by id, after the cursor; one row more than asked tells whether another page
    follows (`_cut`)."""
    if cursor:
        statement = statement.where(model.id < decode_cursor(cursor))
    return statement.order_by(model.id.desc()).limit(limit + 1)


def _cut(rows: list[Any], limit: int) -> tuple[list, str | None]:
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (encode_cursor(rows[-1].id) if more and rows else None)


def _page(
    statement: Select[Any], model: Any, limit: int, cursor: str | None
) -> tuple[list, str | None]:
    """A page of records, newest first by id, and the cursor of the next page (None: last)."""
    return _cut(list(db.session.scalars(_keyset(statement, model, limit, cursor))), limit)


def _day_start(day: Any) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


# --- complaints --------------------------------------------------------------------------------


def _complaint_options() -> list[Any]:
    # The four records a complaint points at come in its own row (outer joins: one statement,
    # not four); its recovery actions, a collection, in one more. Of those records only what
    # `complaint_out` shows is read (the rest loads if something asks for it): a user's or a
    # customer's whole row, for each of 50 complaints, cost more than the statements did.
    return [
        joinedload(Complaint.customer).load_only(Customer.name, Customer.external_id),
        joinedload(Complaint.process).load_only(Process.name),
        joinedload(Complaint.category).load_only(Category.name),
        joinedload(Complaint.assignee).load_only(User.full_name),
        selectinload(Complaint.recovery_actions)
        .joinedload(RecoveryAction.done_by)
        .load_only(User.full_name),
    ]


# What the API's complaint list reads besides the complaint's own columns: the names of the
# records it points at, joined in (aliases, so that a filter may join the customer too).
_LISTED_CUSTOMER = aliased(Customer, name="listed_customer")
_LISTED_PROCESS = aliased(Process, name="listed_process")
_LISTED_CATEGORY = aliased(Category, name="listed_category")
_LISTED_ASSIGNEE = aliased(User, name="listed_assignee")


def complaint_page(query: ComplaintQuery) -> tuple[list[Row[Any]], str | None]:
    """One page of complaints matching the query's filters, newest first: plain rows of the
    complaint's columns and the names of its customer, process, category and assignee (one
    statement, no records built; `complaint_list_out` makes them the API's complaints). For 50
    complaints, building the records and their relations cost several times the statements."""
    statement = select(Complaint)
    if query.status:
        statement = statement.where(Complaint.status.in_(query.status))
    if query.channel is not None:
        statement = statement.where(Complaint.channel == query.channel)
    if query.severity is not None:
        statement = statement.where(Complaint.severity == query.severity)
    if query.source_system is not None:
        statement = statement.where(Complaint.source_system == query.source_system)
    if query.external_id is not None:
        statement = statement.where(Complaint.external_id == query.external_id)
    if query.customer_external_id is not None:
        statement = statement.join(Complaint.customer).where(
            Customer.external_id == query.customer_external_id
        )
    if query.received_from is not None:
        statement = statement.where(Complaint.received_at >= _day_start(query.received_from))
    if query.received_to is not None:
        end = _day_start(query.received_to) + timedelta(days=1)
        statement = statement.where(Complaint.received_at < end)
    if query.updated_since is not None:
        statement = statement.where(Complaint.updated_at >= query.updated_since)
    if query.q is not None and query.q.strip():
        statement = statement.where(search_clause(query.q))
    statement = with_linked_names(
        statement.with_only_columns(
            *Complaint.__table__.columns,
            _LISTED_CUSTOMER.external_id.label("customer_external_id"),
        ),
        customer=_LISTED_CUSTOMER,
        process=_LISTED_PROCESS,
        category=_LISTED_CATEGORY,
        assignee=_LISTED_ASSIGNEE,
    )
    rows = list(db.session.execute(_keyset(statement, Complaint, query.limit, query.cursor)))
    return _cut(rows, query.limit)


# The recovery actions of a page of complaints (statements built once, not per request).
_LISTED_ACTIONS = (
    select(
        RecoveryAction.id,
        RecoveryAction.complaint_id,
        RecoveryAction.kind,
        RecoveryAction.description,
        RecoveryAction.amount,
        RecoveryAction.currency,
        RecoveryAction.done_at,
        User.full_name.label("done_by_name"),
    )
    .outerjoin(User, User.id == RecoveryAction.done_by_id)
    .where(RecoveryAction.complaint_id.in_(bindparam("ids", expanding=True)))
    .order_by(RecoveryAction.done_at, RecoveryAction.id)
)


def complaint_list_out(rows: Sequence[Row[Any]]) -> list[ComplaintOut]:
    """The API's complaints for rows of `complaint_page`, with their recovery actions and linked
    nonconformities (one statement each for the whole page)."""
    ids = [row.id for row in rows]
    actions: dict[int, list[RecoveryActionOut]] = {complaint_id: [] for complaint_id in ids}
    if ids:
        for action in db.session.execute(_LISTED_ACTIONS, {"ids": ids}):
            actions[action.complaint_id].append(_recovery_action_out(action, action.done_by_name))
    refs = nonconformity_refs_of(ids)
    return [
        _complaint_out(
            row,
            customer=None
            if row.customer_id is None
            else CustomerRef(
                id=row.customer_id, name=row.customer_name, external_id=row.customer_external_id
            ),
            process=None
            if row.process_id is None
            else NamedRef(id=row.process_id, name=row.process_name),
            category=None
            if row.category_id is None
            else NamedRef(id=row.category_id, name=row.category_name),
            assignee=row.assignee_name,
            recovery_actions=actions[row.id],
            nonconformities=refs[row.id],
        )
        for row in rows
    ]


def complaint_by_reference(reference: str) -> Complaint | None:
    return db.session.scalar(
        select(Complaint)
        .where(Complaint.reference == reference.strip().upper())
        .options(*_complaint_options())
    )


_LINKED_NONCONFORMITIES = (
    select(complaint_nonconformity.c.complaint_id, Nonconformity.reference)
    .join(Nonconformity, Nonconformity.id == complaint_nonconformity.c.nonconformity_id)
    .where(complaint_nonconformity.c.complaint_id.in_(bindparam("ids", expanding=True)))
    .order_by(Nonconformity.id)
)


def nonconformity_refs_of(complaint_ids: Sequence[int]) -> dict[int, list[str]]:
    """The references of the nonconformities each complaint is linked to (one query)."""
    found: dict[int, list[str]] = {complaint_id: [] for complaint_id in complaint_ids}
    if not complaint_ids:
        return found
    rows = db.session.execute(_LINKED_NONCONFORMITIES, {"ids": list(complaint_ids)})
    for complaint_id, reference in rows:
        found[complaint_id].append(reference)
    return found


def _money(value: Any) -> str | None:
    return None if value is None else f"{value:.2f}"


def _named(record: Any) -> NamedRef | None:
    return None if record is None else NamedRef(id=record.id, name=record.name)


_PLACEHOLDER = "REFERENCE"


def _page_of(endpoint: str, reference: str) -> str:
    """The app's page of the record `reference` (`endpoint` takes `reference` as its last path
    segment). The URL is built once per request and endpoint with a placeholder and reused for
    every record of a list: url_for for each of 50 records cost more than the rest of the link.
    References are letters, digits and "-", so they need no quoting."""
    prefixes: dict[str, str | None] = g.setdefault("api_page_prefixes", {})
    if endpoint not in prefixes:
        url = url_for(endpoint, reference=_PLACEHOLDER)
        prefixes[endpoint] = url[: -len(_PLACEHOLDER)] if url.endswith(_PLACEHOLDER) else None
    prefix = prefixes[endpoint]
    return prefix + reference if prefix is not None else url_for(endpoint, reference=reference)


def _links(api_path: str, endpoint: str, reference: str) -> Links:
    return Links(self=f"{API_PREFIX}{api_path}", html=_page_of(endpoint, reference))


def complaint_out(complaint: Complaint, nonconformities: list[str] | None = None) -> ComplaintOut:
    if nonconformities is None:
        nonconformities = nonconformity_refs_of([complaint.id])[complaint.id]
    customer = complaint.customer
    return _complaint_out(
        complaint,
        customer=None
        if customer is None
        else CustomerRef(id=customer.id, name=customer.name, external_id=customer.external_id),
        process=_named(complaint.process),
        category=_named(complaint.category),
        assignee=complaint.assignee.full_name if complaint.assignee else None,
        recovery_actions=[recovery_action_out(action) for action in complaint.recovery_actions],
        nonconformities=nonconformities,
    )


def _complaint_out(
    complaint: Any,
    *,
    customer: CustomerRef | None,
    process: NamedRef | None,
    category: NamedRef | None,
    assignee: str | None,
    recovery_actions: list[RecoveryActionOut],
    nonconformities: list[str],
) -> ComplaintOut:
    """The API's complaint from `complaint`'s own columns (a record, or a row of
    `complaint_page`) and what it points at."""
    return ComplaintOut(
        reference=complaint.reference,
        title=complaint.title,
        description=complaint.description,
        status=complaint.status,
        channel=complaint.channel,
        severity=complaint.severity,
        received_at=complaint.received_at,
        product_or_service=complaint.product_or_service,
        customer=customer,
        process=process,
        category=category,
        assignee=assignee,
        escalation_level=complaint.escalation_level,
        first_response_at=complaint.first_response_at,
        resolved_at=complaint.resolved_at,
        closed_at=complaint.closed_at,
        first_contact_resolution=complaint.first_contact_resolution,
        timely_response=complaint.timely_response,
        disputed=complaint.disputed,
        public_response=complaint.public_response,
        region=complaint.region,
        tags=complaint.tags,
        company_response=complaint.company_response,
        satisfaction=SatisfactionOut(
            score=complaint.csat_score,
            comment=complaint.csat_comment,
            recorded_at=complaint.csat_recorded_at,
        ),
        retention=RetentionOut(
            status=complaint.retention_status,
            follow_up_days=complaint.retention_follow_up_days,
            checked_at=complaint.retention_checked_at,
        ),
        source_system=complaint.source_system,
        external_id=complaint.external_id,
        recovery_actions=recovery_actions,
        nonconformities=nonconformities,
        created_at=complaint.created_at,
        updated_at=complaint.updated_at,
        links=_links(
            f"/complaints/{complaint.reference}",
            "complaints.complaint_detail",
            reference=complaint.reference,
        ),
    )


def recovery_action_out(action: RecoveryAction) -> RecoveryActionOut:
    return _recovery_action_out(action, action.done_by.full_name if action.done_by else None)


def _recovery_action_out(action: Any, done_by: str | None) -> RecoveryActionOut:
    return RecoveryActionOut(
        id=action.id,
        kind=action.kind,
        description=action.description,
        amount=_money(action.amount),
        currency=action.currency,
        done_at=action.done_at,
        done_by=done_by,
    )


# --- customers ---------------------------------------------------------------------------------


def customer_out(customer: Customer) -> CustomerOut:
    return CustomerOut(
        id=customer.id,
        external_id=customer.external_id,
        name=customer.name,
        segment=customer.segment,
        annual_value=_money(customer.annual_value) or "0.00",
        customer_since=customer.customer_since,
        active=customer.active,
        created_at=customer.created_at,
        updated_at=customer.updated_at,
    )


def customer_id_for(external_id: str | None) -> int | None:
    """The id of the customer known as `external_id`; refuses an unknown one."""
    if external_id is None:
        return None
    customer = organisation.customer_by_external_id(external_id.strip())
    if customer is None:
        raise ServiceError(
            f"No customer has external id {external_id}; create it first with "
            f"PUT {API_PREFIX}/customers/{{external_id}}.",
            field="customer_external_id",
        )
    return customer.id


def put_customer(external_id: str, data: CustomerIn) -> tuple[Customer, bool]:
    """Create the customer known as `external_id`, or update it (fields left out keep their
    values). Returns the customer and whether it was created. Last write wins: the API does not
    ask for the record's version."""
    customer = organisation.customer_by_external_id(external_id)
    if customer is None:
        created = organisation.create_customer(
            name=data.name,
            segment=data.segment,
            annual_value=data.annual_value,
            customer_since=data.customer_since,
            active=True if data.active is None else data.active,
            external_id=external_id,
        )
        return created, True
    updated = organisation.update_customer(
        customer,
        name=data.name,
        segment=data.segment,
        annual_value=data.annual_value if data.annual_value is not None else customer.annual_value,
        customer_since=data.customer_since
        if "customer_since" in data.model_fields_set
        else customer.customer_since,
        active=customer.active if data.active is None else data.active,
        expected_version=customer.version,
    )
    return updated, False


# --- nonconformities and CAPAs -----------------------------------------------------------------


def _nonconformity_options() -> list[Any]:
    return [
        selectinload(Nonconformity.process),
        selectinload(Nonconformity.category),
        selectinload(Nonconformity.owner),
        selectinload(Nonconformity.complaints),
        selectinload(Nonconformity.capas),
    ]


def nonconformity_page(query: NonconformityQuery) -> tuple[list[Nonconformity], str | None]:
    statement = select(Nonconformity).options(*_nonconformity_options())
    if query.status:
        statement = statement.where(Nonconformity.status.in_(query.status))
    return _page(statement, Nonconformity, query.limit, query.cursor)


def nonconformity_by_reference(reference: str) -> Nonconformity | None:
    return db.session.scalar(
        select(Nonconformity)
        .where(Nonconformity.reference == reference.strip().upper())
        .options(*_nonconformity_options())
    )


def nonconformity_out(nc: Nonconformity) -> NonconformityOut:
    return NonconformityOut(
        reference=nc.reference,
        title=nc.title,
        description=nc.description,
        source=nc.source,
        status=nc.status,
        process=_named(nc.process),
        category=_named(nc.category),
        owner=nc.owner.full_name if nc.owner else None,
        detected_at=nc.detected_at,
        severity=nc.severity,
        occurrence=nc.occurrence,
        detection=nc.detection,
        rpn=nc.rpn,
        closed_at=nc.closed_at,
        complaints=[complaint.reference for complaint in nc.complaints],
        capas=[capa.reference for capa in nc.capas],
        created_at=nc.created_at,
        updated_at=nc.updated_at,
        links=_links(
            f"/nonconformities/{nc.reference}",
            "nonconformities.nonconformity_detail",
            reference=nc.reference,
        ),
    )


def _capa_options() -> list[Any]:
    return [
        selectinload(Capa.owner),
        selectinload(Capa.nonconformities),
        selectinload(Capa.principles),
        selectinload(Capa.follow_up_of),
    ]


def capa_page(query: CapaQuery) -> tuple[list[Capa], str | None]:
    statement = select(Capa).options(*_capa_options())
    if query.status:
        statement = statement.where(Capa.status.in_(query.status))
    return _page(statement, Capa, query.limit, query.cursor)


def capa_by_reference(reference: str) -> Capa | None:
    return db.session.scalar(
        select(Capa).where(Capa.reference == reference.strip().upper()).options(*_capa_options())
    )


def capa_out(capa: Capa) -> CapaOut:
    return CapaOut(
        reference=capa.reference,
        title=capa.title,
        description=capa.description,
        kind=capa.kind,
        recovery_dimension=capa.recovery_dimension,
        status=capa.status,
        owner=capa.owner.full_name if capa.owner else None,
        due_date=capa.due_date,
        implemented_at=capa.implemented_at,
        closed_at=capa.closed_at,
        nonconformities=[nc.reference for nc in capa.nonconformities],
        principles=[NamedRef(id=p.id, name=p.name) for p in capa.principles],
        follow_up_of=capa.follow_up_of.reference if capa.follow_up_of else None,
        created_at=capa.created_at,
        updated_at=capa.updated_at,
        links=_links(f"/capas/{capa.reference}", "capa.capa_detail", reference=capa.reference),
    )
