"""The JSON API v1 (`/api/v1`). Thin: each operation validates its input with the schemas, calls a
domain service acting as the token's integration, and shapes the answer. Browser session cookies
never authenticate here, and CSRF does not apply (no cookies are read)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, jsonify

from app.api import API_PREFIX, SessionlessApi
from app.api import services as api
from app.api.framework import ApiProblem, operation
from app.api.openapi import openapi_document
from app.api.schemas import (
    CapaOut,
    CapaPage,
    CapaQuery,
    CategoryList,
    CategoryOut,
    ChannelList,
    ChannelOut,
    ComplaintIn,
    ComplaintOut,
    ComplaintPage,
    ComplaintQuery,
    CustomerIn,
    CustomerOut,
    NonconformityOut,
    NonconformityPage,
    NonconformityQuery,
    PrincipleList,
    PrincipleOut,
    ProcessList,
    ProcessOut,
    RecoveryActionIn,
    RecoveryActionOut,
    SatisfactionIn,
    TransitionIn,
)
from app.api.tokens import ApiActor
from app.complaints import services as complaints
from app.complaints.models import Channel, Complaint
from app.extensions import csrf
from app.organisation import services as organisation

blueprint = Blueprint("api", __name__, url_prefix=API_PREFIX)
csrf.exempt(blueprint)  # token authentication, no cookies: nothing for CSRF to protect
blueprint.record_once(lambda state: setattr(state.app, "session_interface", SessionlessApi()))

REFERENCE = {"type": "string", "minLength": 1, "maxLength": 20, "pattern": "^[A-Za-z0-9-]+$"}
EXTERNAL_ID = {"type": "string", "minLength": 1, "maxLength": 120, "pattern": "^[^/]+$"}


@blueprint.get("/openapi.json")
def openapi_json() -> Response:
    """The OpenAPI 3.1 document (no token needed)."""
    return jsonify(openapi_document())


openapi_json.required_permission = None  # type: ignore[attr-defined]


def _complaint(reference: str) -> Complaint:
    complaint = api.complaint_by_reference(reference)
    if complaint is None:
        raise ApiProblem(404, "Not found", f"There is no complaint {reference}.")
    return complaint


def _reloaded(complaint: Complaint) -> ComplaintOut:
    found = api.complaint_by_reference(complaint.reference)
    assert found is not None
    return api.complaint_out(found)


# --- complaints --------------------------------------------------------------------------------


@operation(
    blueprint,
    "/complaints",
    "POST",
    summary="Take a complaint in",
    tag="Complaints",
    scope="intake",
    body=ComplaintIn,
    response_model=ComplaintOut,
    status=201,
    errors=(409,),
)
def create_complaint(actor: ApiActor, body: ComplaintIn) -> Any:
    """Record a complaint, status "received", with the integration as its source in the audit
    trail. A `source_system` + `external_id` pair already taken in answers 409 with the existing
    complaint's `reference` (and `Location`)."""
    complaint = complaints.record_complaint(
        user=actor,  # type: ignore[arg-type]
        title=body.title,
        channel=body.channel,
        severity=body.severity,
        description=body.description,
        product_or_service=body.product_or_service,
        received_at=body.received_at,
        customer_id=api.customer_id_for(body.customer_external_id),
        process_id=body.process_id,
        category_id=body.category_id,
        source_system=body.source_system,
        external_id=body.external_id,
        timely_response=body.timely_response,
        disputed=body.disputed,
        public_response=body.public_response,
        region=body.region,
    )
    location = f"{API_PREFIX}/complaints/{complaint.reference}"
    # A new complaint has no recovery actions or nonconformities yet: no need to reload it.
    return api.complaint_out(complaint, nonconformities=[]), 201, {"Location": location}


@operation(
    blueprint,
    "/complaints",
    "GET",
    summary="List complaints",
    tag="Complaints",
    scope="read",
    query=ComplaintQuery,
    response_model=ComplaintPage,
)
def list_complaints(actor: ApiActor, query: ComplaintQuery) -> ComplaintPage:
    """Complaints newest first, filtered; find one ticket with `source_system` and
    `external_id`, poll for changes with `updated_since`."""
    rows, next_cursor = api.complaint_page(query)
    return ComplaintPage(data=api.complaint_list_out(rows), next_cursor=next_cursor)


@operation(
    blueprint,
    "/complaints/{reference}",
    "GET",
    summary="Read a complaint",
    tag="Complaints",
    scope="read",
    path_params={"reference": REFERENCE},
    response_model=ComplaintOut,
)
def get_complaint(actor: ApiActor, reference: str) -> ComplaintOut:
    """One complaint with its status, customer recovery actions, satisfaction and linked
    nonconformities."""
    return api.complaint_out(_complaint(reference))


@operation(
    blueprint,
    "/complaints/{reference}/transitions",
    "POST",
    summary="Move a complaint through its workflow",
    tag="Complaints",
    scope="write",
    path_params={"reference": REFERENCE},
    body=TransitionIn,
    response_model=ComplaintOut,
)
def transition_complaint(actor: ApiActor, reference: str, body: TransitionIn) -> ComplaintOut:
    """Fire a transition: acknowledge, investigate, resolve, close or reopen (with a reason).
    A transition the complaint's status does not allow answers 422."""
    complaint = complaints.transition_complaint(
        _complaint(reference),
        body.name,
        user=actor,  # type: ignore[arg-type]
        reason=body.reason,
    )
    return _reloaded(complaint)


@operation(
    blueprint,
    "/complaints/{reference}/recovery-actions",
    "POST",
    summary="Record a customer recovery action",
    tag="Complaints",
    scope="write",
    path_params={"reference": REFERENCE},
    body=RecoveryActionIn,
    response_model=RecoveryActionOut,
    status=201,
)
def add_recovery_action(actor: ApiActor, reference: str, body: RecoveryActionIn) -> Any:
    """What was done to make the customer whole: refund, compensation and goodwill need an
    amount and currency; 'other' needs a description."""
    complaint = _complaint(reference)
    action = complaints.add_recovery_action(
        complaint,
        user=actor,  # type: ignore[arg-type]
        kind=body.kind,
        description=body.description,
        amount=body.amount,
        currency=body.currency,
        done_at=body.done_at,
    )
    location = f"{API_PREFIX}/complaints/{complaint.reference}"
    return api.recovery_action_out(action), 201, {"Location": location}


@operation(
    blueprint,
    "/complaints/{reference}/satisfaction",
    "POST",
    summary="Record the customer's satisfaction",
    tag="Complaints",
    scope="write",
    path_params={"reference": REFERENCE},
    body=SatisfactionIn,
    response_model=ComplaintOut,
)
def record_satisfaction(actor: ApiActor, reference: str, body: SatisfactionIn) -> ComplaintOut:
    """CSAT 1–5 after recovery, once the complaint is resolved or closed; recording again
    replaces the earlier answer."""
    complaint = complaints.record_satisfaction(
        _complaint(reference),
        user=actor,  # type: ignore[arg-type]
        score=body.score,
        comment=body.comment,
    )
    return _reloaded(complaint)


# --- customers ---------------------------------------------------------------------------------


@operation(
    blueprint,
    "/customers/{external_id}",
    "PUT",
    summary="Create or update a customer by external id",
    tag="Customers",
    scope="intake",
    path_params={"external_id": EXTERNAL_ID},
    body=CustomerIn,
    response_model=CustomerOut,
    errors=(409,),
    also=(201,),
)
def put_customer(actor: ApiActor, external_id: str, body: CustomerIn) -> Any:
    """Creates the customer (201) or updates it (200); fields left out of an update keep their
    values."""
    customer, created = api.put_customer(external_id, body)
    if created:
        location = f"{API_PREFIX}/customers/{quote(external_id, safe='')}"
        return api.customer_out(customer), 201, {"Location": location}
    return api.customer_out(customer)


@operation(
    blueprint,
    "/customers/{external_id}",
    "GET",
    summary="Read a customer by external id",
    tag="Customers",
    scope="read",
    path_params={"external_id": EXTERNAL_ID},
    response_model=CustomerOut,
)
def get_customer(actor: ApiActor, external_id: str) -> CustomerOut:
    """The customer known to your system as `external_id`."""
    customer = organisation.customer_by_external_id(external_id)
    if customer is None:
        raise ApiProblem(404, "Not found", f"No customer has external id {external_id}.")
    return api.customer_out(customer)


# --- nonconformities and CAPAs -----------------------------------------------------------------


@operation(
    blueprint,
    "/nonconformities",
    "GET",
    summary="List nonconformities",
    tag="Nonconformities",
    scope="read",
    query=NonconformityQuery,
    response_model=NonconformityPage,
)
def list_nonconformities(actor: ApiActor, query: NonconformityQuery) -> NonconformityPage:
    """Nonconformities newest first, optionally of some statuses, with their linked complaints
    and CAPAs."""
    rows, next_cursor = api.nonconformity_page(query)
    return NonconformityPage(
        data=[api.nonconformity_out(row) for row in rows], next_cursor=next_cursor
    )


@operation(
    blueprint,
    "/nonconformities/{reference}",
    "GET",
    summary="Read a nonconformity",
    tag="Nonconformities",
    scope="read",
    path_params={"reference": REFERENCE},
    response_model=NonconformityOut,
)
def get_nonconformity(actor: ApiActor, reference: str) -> NonconformityOut:
    """One nonconformity with its status and links."""
    nc = api.nonconformity_by_reference(reference)
    if nc is None:
        raise ApiProblem(404, "Not found", f"There is no nonconformity {reference}.")
    return api.nonconformity_out(nc)


@operation(
    blueprint,
    "/capas",
    "GET",
    summary="List CAPAs",
    tag="CAPAs",
    scope="read",
    query=CapaQuery,
    response_model=CapaPage,
)
def list_capas(actor: ApiActor, query: CapaQuery) -> CapaPage:
    """Corrective and preventive actions newest first, optionally of some statuses."""
    rows, next_cursor = api.capa_page(query)
    return CapaPage(data=[api.capa_out(row) for row in rows], next_cursor=next_cursor)


@operation(
    blueprint,
    "/capas/{reference}",
    "GET",
    summary="Read a CAPA",
    tag="CAPAs",
    scope="read",
    path_params={"reference": REFERENCE},
    response_model=CapaOut,
)
def get_capa(actor: ApiActor, reference: str) -> CapaOut:
    """One CAPA with its status, the nonconformities it fixes and its TQM principles."""
    capa = api.capa_by_reference(reference)
    if capa is None:
        raise ApiProblem(404, "Not found", f"There is no CAPA {reference}.")
    return api.capa_out(capa)


# --- reference lists ---------------------------------------------------------------------------


@operation(
    blueprint,
    "/processes",
    "GET",
    summary="List processes",
    tag="Reference lists",
    scope="read",
    response_model=ProcessList,
)
def list_processes(actor: ApiActor) -> ProcessList:
    """Every process, active first; give a complaint's `process_id` from here."""
    return ProcessList(
        data=[ProcessOut.model_validate(row) for row in organisation.list_processes()]
    )


@operation(
    blueprint,
    "/categories",
    "GET",
    summary="List failure categories",
    tag="Reference lists",
    scope="read",
    response_model=CategoryList,
)
def list_categories(actor: ApiActor) -> CategoryList:
    """Every failure category; give a complaint's `category_id` from here."""
    return CategoryList(
        data=[CategoryOut.model_validate(row) for row in organisation.list_categories()]
    )


@operation(
    blueprint,
    "/channels",
    "GET",
    summary="List complaint channels",
    tag="Reference lists",
    scope="read",
    response_model=ChannelList,
)
def list_channels(actor: ApiActor) -> ChannelList:
    """The channels a complaint can arrive through."""
    return ChannelList(data=[ChannelOut(value=item, label=item.label) for item in Channel])


@operation(
    blueprint,
    "/principles",
    "GET",
    summary="List the TQM principles",
    tag="Reference lists",
    scope="read",
    response_model=PrincipleList,
)
def list_principles(actor: ApiActor) -> PrincipleList:
    """The eight TQM principles CAPAs map to."""
    return PrincipleList(
        data=[PrincipleOut.model_validate(row) for row in organisation.list_principles()]
    )


# The measured metrics' operation lives in its own module, on this blueprint.
from app.api import metrics as _metrics  # noqa: E402, F401
