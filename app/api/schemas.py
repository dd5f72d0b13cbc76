"""The API's request and response schemas (pydantic v2). They validate what clients send and
are the source of the OpenAPI document (`app.api.openapi`): one definition for both."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

from app.capa.models import CapaKind, CapaStatus, RecoveryDimension
from app.complaints.models import (
    Channel,
    ComplaintStatus,
    RecoveryKind,
    RetentionStatus,
    Severity,
)
from app.nonconformities.models import NonconformitySource, NonconformityStatus
from app.organisation.models import CustomerSegment

MONEY_PATTERN = r"^[0-9]{1,10}(\.[0-9]{1,2})?$"
Money = Annotated[str, Field(pattern=MONEY_PATTERN, examples=["25.00"])]
_ISO_DATE_START = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ISO_MESSAGE = "Give an ISO 8601 date, such as 2026-03-01 or 2026-03-01T09:30:00Z."


# Years outside this range are typing mistakes, and at the edges of the calendar a change of
# time zone or "the day after" would not exist.
FIRST_YEAR, LAST_YEAR = 1900, 9000
_RANGE_MESSAGE = f"Give a date between the years {FIRST_YEAR} and {LAST_YEAR}."


def _iso_datetime(value: Any) -> Any:
    # Pydantic would read "1700000000" or "0.5" as a Unix timestamp; the API takes ISO 8601 only.
    if not isinstance(value, str):
        return value
    if not _ISO_DATE_START.match(value):
        raise ValueError(_ISO_MESSAGE)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(_ISO_MESSAGE) from None
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise ValueError(_RANGE_MESSAGE)
    return moment


def _iso_date(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if _ISO_DATE_START.fullmatch(value):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            pass
        else:
            if not FIRST_YEAR <= day.year <= LAST_YEAR:
                raise ValueError(_RANGE_MESSAGE)
            return day
    raise ValueError(_ISO_MESSAGE)


IsoDateTime = Annotated[AwareDatetime, BeforeValidator(_iso_datetime)]
IsoDate = Annotated[date, BeforeValidator(_iso_date)]


class RequestBody(BaseModel):
    """Bodies are validated strictly: unknown fields and wrongly typed values are refused."""

    model_config = ConfigDict(strict=True, extra="forbid")


class Query(BaseModel):
    """Query strings arrive as text, so they are converted (lax); unknown parameters are refused,
    so that a misspelt filter is not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# --- problems (RFC 9457) -----------------------------------------------------------------------


class FieldError(Output):
    field: str = Field(description="The request field at fault (dotted path for nested ones).")
    message: str


class Problem(Output):
    """An error, as `application/problem+json` (RFC 9457)."""

    type: str = Field(description="A URI naming the kind of problem; see the API page.")
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldError] | None = Field(
        default=None, description="Field errors, when the request was refused for its content."
    )
    reference: str | None = Field(
        default=None,
        description="With a duplicate: the reference of the complaint taken in before.",
    )


# --- shared pieces -----------------------------------------------------------------------------


class Links(Output):
    self: str = Field(description="This record in the API.")
    html: str = Field(description="This record's page in the app.")


class NamedRef(Output):
    id: int
    name: str


class CustomerRef(Output):
    id: int
    name: str
    external_id: str | None


# --- complaints --------------------------------------------------------------------------------


class ComplaintIn(RequestBody):
    """A complaint pushed in by another system."""

    title: str = Field(min_length=1, max_length=200)
    channel: Channel = Field(description="How the customer complained.")
    severity: Severity
    # Long narratives are welcome; the limit leaves room in the API's 1 MB request limit.
    description: str = Field(default="", max_length=500_000)
    product_or_service: str = Field(default="", max_length=200)
    received_at: IsoDateTime | None = Field(
        default=None,
        description="When the customer complained, with a UTC offset; now when left out. "
        "Not in the future.",
    )
    customer_external_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=120,
        description="The customer's id in your system (create it first with "
        "PUT /customers/{external_id}).",
    )
    process_id: int | None = Field(default=None, ge=1, le=2_147_483_647)
    category_id: int | None = Field(default=None, ge=1, le=2_147_483_647)
    source_system: str | None = Field(
        default=None,
        min_length=1,
        max_length=60,
        description="The system the ticket comes from, such as zendesk.",
        examples=["zendesk"],
    )
    timely_response: bool | None = Field(
        default=None,
        description="Whether the company responded in time, as the source system says; "
        "null or left out: unknown.",
    )
    disputed: bool | None = Field(
        default=None,
        description="Whether the customer disputed the outcome; null or left out: unknown.",
    )
    public_response: str | None = Field(
        default=None, max_length=20_000, description="The company's public response."
    )
    region: str | None = Field(
        default=None, max_length=60, description="The customer's state or region."
    )
    external_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=120,
        description="The ticket's id in the source system. With source_system it is unique: "
        "the same ticket is never taken in twice (409).",
    )


TransitionName = Literal["acknowledge", "investigate", "resolve", "close", "reopen"]


class TransitionIn(RequestBody):
    name: TransitionName = Field(
        description="acknowledge (received → acknowledged), investigate, resolve, close "
        "(resolved → closed), reopen (needs a reason)."
    )
    reason: str | None = Field(default=None, max_length=2_000)


class RecoveryActionIn(RequestBody):
    kind: RecoveryKind
    description: str = Field(default="", max_length=5_000, description="Required for 'other'.")
    amount: Money | None = Field(
        default=None,
        description="A decimal string; required for refund, compensation and goodwill.",
    )
    currency: str | None = Field(
        default=None, pattern=r"^[A-Z]{3}$", description="ISO 4217, with the amount."
    )
    done_at: IsoDateTime | None = Field(
        default=None, description="When it was done; now when left out."
    )


class SatisfactionIn(RequestBody):
    score: int = Field(ge=1, le=5, description="CSAT: 1 very dissatisfied … 5 very satisfied.")
    comment: str = Field(default="", max_length=5_000)


class RecoveryActionOut(Output):
    id: int
    kind: RecoveryKind
    description: str
    amount: str | None = Field(description="A decimal string.")
    currency: str | None
    done_at: datetime
    done_by: str | None = Field(description="The person who did it, when known.")


class SatisfactionOut(Output):
    score: int | None
    comment: str
    recorded_at: datetime | None


class RetentionOut(Output):
    status: RetentionStatus
    follow_up_days: int | None
    checked_at: datetime | None


class ComplaintOut(Output):
    reference: str
    title: str
    description: str
    status: ComplaintStatus
    channel: Channel
    severity: Severity
    received_at: datetime
    product_or_service: str
    customer: CustomerRef | None
    process: NamedRef | None
    category: NamedRef | None
    assignee: str | None
    escalation_level: int
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    first_contact_resolution: bool | None
    timely_response: bool | None = Field(description="null: unknown.")
    disputed: bool | None = Field(description="null: unknown.")
    public_response: str | None
    region: str | None
    tags: str | None = Field(description="The source's labels, as it gives them; null: none.")
    company_response: str | None = Field(
        description="The company's response to the customer, as the source gives it "
        "(e.g. “Closed with explanation”); null: none."
    )
    satisfaction: SatisfactionOut
    retention: RetentionOut
    source_system: str | None
    external_id: str | None
    recovery_actions: list[RecoveryActionOut]
    nonconformities: list[str] = Field(description="References of linked nonconformities.")
    created_at: datetime
    updated_at: datetime
    links: Links


class ComplaintPage(Output):
    data: list[ComplaintOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class PageQuery(Query):
    limit: int = Field(default=50, ge=1, le=100, description="Records per page (1–100).")
    cursor: str | None = Field(
        default=None, max_length=200, description="`next_cursor` of the previous page."
    )


class ComplaintQuery(PageQuery):
    status: list[ComplaintStatus] = Field(
        default_factory=list, description="One or more statuses (repeat the parameter)."
    )
    channel: Channel | None = None
    severity: Severity | None = None
    source_system: str | None = Field(default=None, max_length=60)
    external_id: str | None = Field(default=None, max_length=120)
    customer_external_id: str | None = Field(default=None, max_length=120)
    received_from: IsoDate | None = Field(default=None, description="Received on or after (UTC).")
    received_to: IsoDate | None = Field(default=None, description="Received on or before (UTC).")
    updated_since: IsoDateTime | None = Field(
        default=None, description="Changed at or after this moment (for polling)."
    )
    q: str | None = Field(
        default=None,
        max_length=200,
        description=(
            "Search: reference, title, description, external id and customer name holding"
            " every word of it (whole words), or the exact reference. Blank does not filter."
        ),
    )


# --- customers ---------------------------------------------------------------------------------


class CustomerIn(RequestBody):
    name: str = Field(min_length=1, max_length=200)
    segment: CustomerSegment
    annual_value: Money | None = Field(
        default=None, description="A decimal string; 0 when created without it."
    )
    customer_since: IsoDate | None = Field(default=None, description="Not in the future.")
    active: bool | None = Field(default=None, description="True when created without it.")


class CustomerOut(Output):
    id: int
    external_id: str | None
    name: str
    segment: CustomerSegment
    annual_value: str
    customer_since: date | None
    active: bool
    created_at: datetime
    updated_at: datetime


# --- nonconformities and CAPAs -----------------------------------------------------------------


class NonconformityOut(Output):
    reference: str
    title: str
    description: str
    source: NonconformitySource
    status: NonconformityStatus
    process: NamedRef | None
    category: NamedRef | None
    owner: str | None
    detected_at: datetime
    severity: int
    occurrence: int
    detection: int
    rpn: int = Field(description="Risk priority number: severity × occurrence × detection.")
    closed_at: datetime | None
    complaints: list[str] = Field(description="References of linked complaints.")
    capas: list[str] = Field(description="References of CAPAs that address it.")
    created_at: datetime
    updated_at: datetime
    links: Links


class NonconformityPage(Output):
    data: list[NonconformityOut]
    next_cursor: str | None


class NonconformityQuery(PageQuery):
    status: list[NonconformityStatus] = Field(default_factory=list)


class PrincipleOut(Output):
    id: int
    name: str
    description: str


class CapaOut(Output):
    reference: str
    title: str
    description: str
    kind: CapaKind
    recovery_dimension: RecoveryDimension
    status: CapaStatus
    owner: str | None
    due_date: date | None
    implemented_at: datetime | None
    closed_at: datetime | None
    nonconformities: list[str] = Field(description="References of the nonconformities it fixes.")
    principles: list[NamedRef] = Field(description="The TQM principles it applies.")
    follow_up_of: str | None = Field(description="The ineffective CAPA this one follows up.")
    created_at: datetime
    updated_at: datetime
    links: Links


class CapaPage(Output):
    data: list[CapaOut]
    next_cursor: str | None


class CapaQuery(PageQuery):
    status: list[CapaStatus] = Field(default_factory=list)


# --- reference lists ---------------------------------------------------------------------------


class ProcessOut(Output):
    id: int
    name: str
    description: str
    active: bool


class ProcessList(Output):
    data: list[ProcessOut]


class CategoryOut(Output):
    id: int
    name: str
    description: str
    active: bool


class CategoryList(Output):
    data: list[CategoryOut]


class ChannelOut(Output):
    value: Channel
    label: str


class ChannelList(Output):
    data: list[ChannelOut]


class PrincipleList(Output):
    data: list[PrincipleOut]
