"""Measured metrics: figures that come from other systems (web analytics, CRM, billing, IT
monitoring), one value per calendar month, entered by hand, imported from CSV/XLSX or posted to
the API (`POST /api/v1/metrics/<key>/values`).

The rules every way in shares (docs/strategy.md, "Measured metrics"):

- a period is a calendar month, written `YYYY-MM` (an ISO date inside the month is read as its
  month); a month after the current UTC month is refused;
- a value is a finite number; counts are not negative; rates are percentages as typed (12.5
  means 12.5 %);
- one value per metric and month: recording the same value again changes nothing (idempotent);
  a different value for a month that has one is refused (`ValueConflict`), never overwritten;
- an import checks every row first and saves all of them or none.

Over a scope (a goal's baseline or current window) a month counts when its middle day (the 15th)
lies inside the scope, so a 90-day window holds three months whichever day it starts; the value
is the sum of those months for counts and money, their mean for everything else.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from sqlalchemy import select

from app.core.db import utcnow
from app.core.errors import NotFound, ServiceError
from app.extensions import db
from app.intake.files import read_table
from app.metrics.models import MeasuredMetric, MetricValue
from app.metrics.units import Better, MetricCategory, Unit

if TYPE_CHECKING:
    from app.metrics.kpis import Scope

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,59}$")
PERIOD_PATTERN = re.compile(r"^(\d{4})-(\d{2})(?:-\d{2}(?:[T ].*)?)?$")
SOURCES = ("form", "import", "api")
VALUE_LIMIT = Decimal("1e13")
IMPORT_MAX_ROWS = 5000
MIDDLE_OFFSET = timedelta(days=14)  # the 15th of a month, from its first day
SUMMED_UNITS = frozenset({Unit.COUNT, Unit.MONEY})


class ValueConflict(ServiceError):
    """The month already has a different value: nothing was changed."""

    def __init__(self, metric: MeasuredMetric, existing: MetricValue) -> None:
        super().__init__(
            f"{metric.label} already has the value {show_number(existing.value)} for "
            f"{period_label(existing.period_start)}; a recorded value is never overwritten.",
            field="value",
        )
        self.existing = existing


def show_number(value: Decimal | float) -> str:
    return f"{Decimal(value).normalize():f}"


def period_label(period_start: date) -> str:
    return f"{period_start:%Y-%m}"


def parse_period(text: object, today: date | None = None) -> date:
    """The first day of the month `text` names (`2026-11`); refuses other shapes and months after
    the current one."""
    raw = str(text or "").strip()
    match = PERIOD_PATTERN.match(raw)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ServiceError(f"Give the period as a month, YYYY-MM (not “{raw}”).", field="period")
    period = date(int(match.group(1)), int(match.group(2)), 1)
    today = today or utcnow().date()
    if period > today.replace(day=1):
        raise ServiceError(
            f"The period {period_label(period)} is in the future; record values for months "
            f"up to {period_label(today)}.",
            field="period",
        )
    return period


def parse_value(metric: MeasuredMetric, raw: object) -> Decimal:
    """`raw` as a number the metric can hold; refuses text, NaN, infinities, negative counts."""
    text = str(raw if raw is not None else "").strip().replace(",", "")
    if isinstance(raw, bool):
        text = ""
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ServiceError(f"Give a number (not “{raw}”).", field="value") from None
    if not value.is_finite() or abs(value) >= VALUE_LIMIT:
        raise ServiceError(f"Give a finite number below {VALUE_LIMIT:,.0f}.", field="value")
    if metric.unit is Unit.COUNT and value < 0:
        raise ServiceError("A count cannot be negative.", field="value")
    return value.quantize(Decimal("0.0001"))


# --- defining -----------------------------------------------------------------------------------


def list_metrics() -> list[MeasuredMetric]:
    return list(
        db.session.scalars(
            select(MeasuredMetric).order_by(MeasuredMetric.category, MeasuredMetric.label)
        )
    )


def metric_by_key(key: str) -> MeasuredMetric | None:
    return db.session.scalar(select(MeasuredMetric).where(MeasuredMetric.key == key))


def metric_or_refuse(key: str) -> MeasuredMetric:
    metric = metric_by_key(key)
    if metric is None:
        raise NotFound(f"There is no measured metric with the key “{key}”.")
    return metric


def create_metric(
    *,
    key: str,
    label: str,
    category: MetricCategory | str,
    unit: Unit | str,
    better: Better | str,
    description: str = "",
) -> MeasuredMetric:
    """Define a measured metric. The key (lower-case letters, digits, `_`) is what the API and
    the goals name it by: unique, and never one of the computed KPIs' keys."""
    from app.metrics.services import KPIS

    key = (key or "").strip()
    if not KEY_PATTERN.match(key):
        raise ServiceError(
            "Use 2–60 lower-case letters, digits and _ for the key, starting with a letter.",
            field="key",
        )
    if key in KPIS or metric_by_key(key) is not None:
        raise ServiceError(f"The key {key} is taken; choose another.", field="key")
    label = (label or "").strip()
    if not label or len(label) > 200:
        raise ServiceError("Give a label of at most 200 characters.", field="label")
    try:
        metric = MeasuredMetric(
            key=key,
            label=label,
            description=(description or "").strip(),
            category=MetricCategory(category),
            unit=Unit(unit),
            better=Better(better),
        )
    except ValueError:
        raise ServiceError("Choose the category, unit and direction from the lists.") from None
    db.session.add(metric)
    db.session.flush()
    return metric


# --- recording values ---------------------------------------------------------------------------


def _existing(metric: MeasuredMetric, period: date) -> MetricValue | None:
    return db.session.scalar(
        select(MetricValue).where(
            MetricValue.metric_id == metric.id, MetricValue.period_start == period
        )
    )


def record_value(
    metric: MeasuredMetric,
    *,
    period: object,
    value: object,
    source: str,
    today: date | None = None,
) -> tuple[MetricValue, bool]:
    """Record `value` for the month `period`: (the value, whether it was new). The same value
    again is no change; a different one raises `ValueConflict` (rules in the module docstring)."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source}")
    start = parse_period(period, today)
    number = parse_value(metric, value)
    existing = _existing(metric, start)
    if existing is not None:
        if existing.value == number:
            return existing, False
        raise ValueConflict(metric, existing)
    recorded = MetricValue(metric=metric, period_start=start, value=number, source=source)
    db.session.add(recorded)
    db.session.flush()
    return recorded, True


@dataclass(frozen=True)
class ImportSummary:
    created: int
    unchanged: int


def _column(columns: list[str], name: str) -> int:
    lowered = [column.strip().lower() for column in columns]
    if name not in lowered:
        raise ServiceError(
            f"The file needs a column named “{name}” (columns: period, value).", field="file"
        )
    return lowered.index(name)


def import_values(
    metric: MeasuredMetric, filename: str, content: bytes, today: date | None = None
) -> ImportSummary:
    """Import a CSV or XLSX file of `period`, `value` rows into `metric`: every row is checked
    first, and any refusal (named by row, as a spreadsheet numbers it) saves nothing."""
    table = read_table(filename, content, max_rows=IMPORT_MAX_ROWS)
    period_at, value_at = _column(table.columns, "period"), _column(table.columns, "value")
    known = {row.period_start: row.value for row in metric.values}
    problems: list[str] = []
    wanted: dict[date, Decimal] = {}
    for number, row in enumerate(table.rows, start=2):
        cells = row + [""] * (max(period_at, value_at) + 1 - len(row))
        try:
            start = parse_period(cells[period_at], today)
            value = parse_value(metric, cells[value_at])
        except ServiceError as error:
            problems.append(f"row {number}: {error.message}")
            continue
        earlier = wanted.get(start, known.get(start))
        if earlier is not None and earlier != value:
            problems.append(
                f"row {number}: {period_label(start)} already has {show_number(earlier)}"
            )
            continue
        wanted[start] = value
    if problems:
        shown = "; ".join(problems[:10])
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        raise ServiceError(f"Nothing was imported. {shown}{more}.", field="file")
    if not table.rows:
        raise ServiceError("The file has no rows of values.", field="file")
    created = 0
    for start, value in sorted(wanted.items()):
        if start in known:
            continue
        db.session.add(MetricValue(metric=metric, period_start=start, value=value, source="import"))
        created += 1
    db.session.flush()
    return ImportSummary(created=created, unchanged=len(wanted) - created)


# --- measuring ----------------------------------------------------------------------------------


def value_over(metric: MeasuredMetric, scope: Scope) -> float | None:
    """The metric over `scope`: the months whose 15th lies inside it, summed (counts, money) or
    averaged (the rest); rates as 0..1 like the computed KPIs. None when no month has a value."""
    # period_start + 14 days in [start, end)  ⇔  period_start in [start − 14, end − 14).
    values = list(
        db.session.scalars(
            select(MetricValue.value).where(
                MetricValue.metric_id == metric.id,
                MetricValue.period_start >= scope.start.date() - MIDDLE_OFFSET,
                MetricValue.period_start < scope.end.date() - MIDDLE_OFFSET,
            )
        )
    )
    if not values:
        return None
    total = math.fsum(float(value) for value in values)
    result = total if metric.unit in SUMMED_UNITS else total / len(values)
    return result / 100 if metric.unit is Unit.RATE else result


def recent_values(metric: MeasuredMetric, months: int = 12) -> list[MetricValue]:
    """The latest `months` values, oldest first."""
    rows = list(
        db.session.scalars(
            select(MetricValue)
            .where(MetricValue.metric_id == metric.id)
            .order_by(MetricValue.period_start.desc())
            .limit(months)
        )
    )
    return rows[::-1]
