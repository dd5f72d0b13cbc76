"""`POST /api/v1/metrics/<key>/values`: other systems (web analytics, CRM, billing, monitoring)
feed the measured metrics, one value per month, with a scope of their own (`metrics`). The rules
are app.metrics.measured's, shared with the form and the file import."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from app.api import API_PREFIX
from app.api.framework import ApiProblem, operation
from app.api.schemas import Output, RequestBody
from app.api.tokens import ApiActor
from app.api.views import blueprint
from app.core.errors import NotFound
from app.metrics import measured
from app.metrics.models import MetricValue

METRIC_KEY = {"type": "string", "minLength": 2, "maxLength": 60, "pattern": "^[a-z][a-z0-9_]+$"}


class MetricValueIn(RequestBody):
    period: str = Field(
        pattern=r"^\d{4}-(0[1-9]|1[0-2])$",
        description="The calendar month, YYYY-MM; not after the current month (UTC).",
        examples=["2026-11"],
    )
    value: float = Field(
        allow_inf_nan=False,
        description="The month's value in the metric's unit; rates as percentages (12.5).",
    )


class MetricValueOut(Output):
    metric: str
    period: str
    value: float
    source: str
    created: bool = Field(description="False when the month already had this very value.")
    recorded_at: datetime


def _out(value: MetricValue, created: bool) -> MetricValueOut:
    return MetricValueOut(
        metric=value.metric.key,
        period=measured.period_label(value.period_start),
        value=float(value.value),
        source=value.source,
        created=created,
        recorded_at=value.created_at,
    )


@operation(
    blueprint,
    "/metrics/{key}/values",
    "POST",
    summary="Record a measured metric's value for a month",
    tag="Metrics",
    scope="metrics",
    path_params={"key": METRIC_KEY},
    body=MetricValueIn,
    response_model=MetricValueOut,
    status=201,
    errors=(409,),
    also=(200,),
)
def post_metric_value(actor: ApiActor, key: str, body: MetricValueIn) -> Any:
    """Records the value (201). Idempotent per month: the same value again answers 200 and
    changes nothing; a different value for a month that has one answers 409 and keeps the
    recorded one. An unknown metric key answers 404, a month in the future 422."""
    try:
        metric = measured.metric_or_refuse(key)
    except NotFound as error:
        raise ApiProblem(404, "Not found", error.message) from None
    try:
        value, created = measured.record_value(
            metric, period=body.period, value=repr(body.value), source="api"
        )
    except measured.ValueConflict as error:
        raise ApiProblem(409, "Value exists", error.message) from None
    if created:
        location = f"{API_PREFIX}/metrics/{key}/values"
        return _out(value, True), 201, {"Location": location}
    return _out(value, False), 200, {}
