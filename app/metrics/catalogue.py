"""Every metric a goal can be set on, computed or measured, behind one lookup: the goals, the
forms and the reports ask here, so a measured metric works exactly like a computed KPI."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.metrics import measured
from app.metrics.kpis import Scope
from app.metrics.models import MeasuredMetric
from app.metrics.services import KPIS, Kpi, kpi_value


def _as_kpi(metric: MeasuredMetric) -> Kpi:
    return Kpi(
        metric.key,
        metric.label,
        metric.unit,
        metric.better,
        lambda _figures: None,
        (),
        metric.category,
        computed=False,
    )


def all_kpis() -> list[Kpi]:
    """The computed KPIs in catalogue order, then the measured metrics by category and label."""
    return [*KPIS.values(), *(_as_kpi(metric) for metric in measured.list_metrics())]


def kpi(key: str) -> Kpi | None:
    """The metric named `key`, or None when there is none."""
    if key in KPIS:
        return KPIS[key]
    metric = db.session.scalar(select(MeasuredMetric).where(MeasuredMetric.key == key))
    return None if metric is None else _as_kpi(metric)


def label_of(key: str) -> str:
    found = kpi(key)
    return found.label if found else key


def value(key: str, scope: Scope) -> float | None:
    """The metric over `scope`: the database's aggregate for a computed KPI, the recorded months
    for a measured one (app.metrics.measured.value_over)."""
    if key in KPIS:
        return kpi_value(key, scope)
    metric = measured.metric_by_key(key)
    return None if metric is None else measured.value_over(metric, scope)
