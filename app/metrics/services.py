"""The KPI catalogue and the dashboard: which figures exist, their units and direction, and the
numbers behind every tile and chart (for the page, the CSV download and, later, the reports)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from flask import current_app, has_app_context
from sqlalchemy import select

from app.core import charts
from app.core.db import utcnow
from app.core.spc import ParetoBar, c_chart, c_chart_limits, pareto
from app.extensions import db
from app.metrics.cache import cached
from app.metrics.customers import CustomerBaseFigures, customer_base_figures
from app.metrics.kpis import (
    AgeingFigures,
    CapaFigures,
    ComplaintFigures,
    CostFigures,
    Scope,
    capa_ageing,
    capa_figures,
    complaint_category_counts,
    complaint_figures,
    cost_of_poor_quality,
    first_partial_week,
    nonconformities_by_rpn_band,
    root_cause_category_counts,
    weekly_complaint_counts,
)
from app.metrics.units import Better, MetricCategory, Unit
from app.organisation.models import Category

__all__ = ["Better", "MetricCategory", "Unit"]


@dataclass(frozen=True)
class Figures:
    """Everything the KPIs are read from, for one scope (six groups of aggregate queries)."""

    complaints: ComplaintFigures
    costs: CostFigures
    rpn_bands: dict[str, int]
    capa: CapaFigures
    computed_at: datetime
    customers: CustomerBaseFigures | None = None


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str
    unit: Unit
    better: Better
    read: Callable[[Figures], float | None]
    # Which query groups the KPI needs, so a single KPI (a goal) runs only those.
    needs: tuple[str, ...] = ("complaints",)
    category: MetricCategory = MetricCategory.CUSTOMER_SERVICE
    # False for a measured metric: its values come from other systems (app.metrics.measured).
    computed: bool = True

    def format(self, value: float | None) -> str:
        return format_value(value, self.unit)


def reporting_currency() -> str:
    """The currency money figures are added up and shown in (setting LOOP_CURRENCY)."""
    if not has_app_context():
        return "EUR"
    return str(current_app.config.get("LOOP_CURRENCY") or "EUR")


def format_money(value: float | Decimal | None) -> str:
    """'1,234.50 EUR': an amount with the reporting currency; '–' for None."""
    if value is None:
        return "–"
    return f"{float(value):,.2f} {reporting_currency()}"


# How a figure that cannot be computed (its inputs are missing) is shown, on pages, in CSVs and in
# the PDFs: never as 0 (docs/metrics.md).
UNKNOWN = "–"


def format_value(value: float | Decimal | None, unit: Unit) -> str:
    if value is None:
        return UNKNOWN
    if unit is Unit.RATE:
        return f"{float(value) * 100:.1f} %"
    if unit is Unit.COUNT:
        # A relative target on a count (20 % fewer than 4) is fractional: show it, never truncate.
        number = float(value)
        return f"{number:,.0f}" if number.is_integer() else f"{number:,.1f}"
    if unit is Unit.MONEY:
        return format_money(value)
    if unit is Unit.SCORE:
        return f"{float(value):.2f}"
    return f"{float(value):.1f} {unit.value}"


KPIS: dict[str, Kpi] = {
    kpi.key: kpi
    for kpi in (
        Kpi(
            "complaints", "Complaints", Unit.COUNT, Better.LOWER, lambda f: f.complaints.complaints
        ),
        Kpi(
            "response_mean_hours",
            "Time to first response (mean)",
            Unit.HOURS,
            Better.LOWER,
            lambda f: f.complaints.response_mean_hours,
        ),
        Kpi(
            "response_median_hours",
            "Time to first response (median)",
            Unit.HOURS,
            Better.LOWER,
            lambda f: f.complaints.response_median_hours,
        ),
        Kpi(
            "resolution_mean_days",
            "Time to resolution (mean)",
            Unit.DAYS,
            Better.LOWER,
            lambda f: f.complaints.resolution_mean_days,
        ),
        Kpi(
            "resolution_median_days",
            "Time to resolution (median)",
            Unit.DAYS,
            Better.LOWER,
            lambda f: f.complaints.resolution_median_days,
        ),
        Kpi(
            "resolution_p90_days",
            "Time to resolution (90th percentile)",
            Unit.DAYS,
            Better.LOWER,
            lambda f: f.complaints.resolution_p90_days,
        ),
        Kpi(
            "first_contact_resolution_rate",
            "First-contact resolution rate",
            Unit.RATE,
            Better.HIGHER,
            lambda f: f.complaints.first_contact_resolution_rate,
        ),
        Kpi(
            "escalation_rate",
            "Escalation rate",
            Unit.RATE,
            Better.LOWER,
            lambda f: f.complaints.escalation_rate,
        ),
        Kpi(
            "timely_response_rate",
            "Timely-response rate",
            Unit.RATE,
            Better.HIGHER,
            lambda f: f.complaints.timely_response_rate,
        ),
        Kpi(
            "dispute_rate",
            "Dispute rate",
            Unit.RATE,
            Better.LOWER,
            lambda f: f.complaints.dispute_rate,
        ),
        Kpi(
            "csat_mean",
            "CSAT after recovery",
            Unit.SCORE,
            Better.HIGHER,
            lambda f: f.complaints.csat_mean,
        ),
        Kpi(
            "retention_rate",
            "Retention of complainants",
            Unit.RATE,
            Better.HIGHER,
            lambda f: f.complaints.retention_rate("all"),
        ),
        Kpi(
            "retention_recovered_rate",
            "Retention, recovered complainants",
            Unit.RATE,
            Better.HIGHER,
            lambda f: f.complaints.retention_rate("recovered"),
        ),
        Kpi(
            "retention_not_recovered_rate",
            "Retention, complainants not recovered",
            Unit.RATE,
            Better.HIGHER,
            lambda f: f.complaints.retention_rate("not_recovered"),
        ),
        Kpi(
            "cost_of_poor_quality",
            "Cost of poor quality",
            Unit.MONEY,
            Better.LOWER,
            lambda f: float(f.costs.total),
            ("costs",),
        ),
        Kpi(
            "high_rpn_nonconformities",
            "Nonconformities with high RPN",
            Unit.COUNT,
            Better.LOWER,
            lambda f: f.rpn_bands["high"],
            ("rpn",),
        ),
        Kpi(
            "capa_on_time_rate",
            "CAPA on-time closure rate",
            Unit.RATE,
            Better.HIGHER,
            lambda f: f.capa.on_time_closure_rate,
            ("capa",),
        ),
        Kpi(
            "capa_effectiveness_rate",
            "CAPA effectiveness rate",
            Unit.RATE,
            Better.HIGHER,
            lambda f: f.capa.effectiveness_rate,
            ("capa",),
        ),
        Kpi(
            "recurrence_rate",
            "Recurrence after verified CAPA",
            Unit.RATE,
            Better.LOWER,
            lambda f: f.capa.recurrence_rate,
            ("capa",),
        ),
        Kpi(
            "customer_churn_rate",
            "Customer churn rate",
            Unit.RATE,
            Better.LOWER,
            lambda f: f.customers.churn_rate,
            ("customers",),
            MetricCategory.SALES,
        ),
        Kpi(
            "customer_retention_rate",
            "Customer retention rate",
            Unit.RATE,
            Better.HIGHER,
            lambda f: f.customers.retention_rate,
            ("customers",),
            MetricCategory.SALES,
        ),
    )
}

GROUPS = ("complaints", "costs", "rpn", "capa", "customers")


_GROUP_QUERIES: dict[str, Callable[[Scope], object]] = {
    "complaints": complaint_figures,
    "costs": cost_of_poor_quality,
    "rpn": nonconformities_by_rpn_band,
    "capa": capa_figures,
    "customers": customer_base_figures,
}


def figures(scope: Scope, groups: tuple[str, ...] = GROUPS) -> Figures:
    """Run the aggregate queries the named groups need (the rest stay None). Each group's result
    is cached on its own for METRICS_CACHE_SECONDS (see app.metrics.cache), so the dashboard and
    the goals measured over the same window share one computation."""
    parts = {
        group: cached(("figures", group, scope), lambda group=group: _GROUP_QUERIES[group](scope))
        for group in groups
    }
    return Figures(
        complaints=parts.get("complaints"),  # type: ignore[arg-type]
        costs=parts.get("costs"),  # type: ignore[arg-type]
        rpn_bands=parts.get("rpn"),  # type: ignore[arg-type]
        capa=parts.get("capa"),  # type: ignore[arg-type]
        computed_at=utcnow(),
        customers=parts.get("customers"),  # type: ignore[arg-type]
    )


def kpi_value(key: str, scope: Scope) -> float | None:
    """One KPI over one scope, running only the queries it needs."""
    kpi = KPIS[key]
    return kpi.read(figures(scope, kpi.needs))


@dataclass(frozen=True)
class Tile:
    kpi: Kpi
    value: float | None
    previous: float | None

    @property
    def change(self) -> float | None:
        """Relative change against the previous period (None when either is missing or the
        previous value is zero)."""
        if self.value is None or self.previous in (None, 0):
            return None
        return (self.value - self.previous) / abs(self.previous)

    @property
    def improved(self) -> bool | None:
        if self.value is None or self.previous is None or self.value == self.previous:
            return None
        return (self.value < self.previous) == (self.kpi.better is Better.LOWER)


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    svg: str
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]]

    @property
    def page_svg(self) -> str:
        """The chart for a page that shows several: its ids prefixed with the chart's key."""
        return charts.scoped_svg(self.svg, f"chart-{self.key}")


@dataclass(frozen=True)
class Dashboard:
    scope: Scope
    previous: Scope
    tiles: list[Tile]
    charts: list[Chart]
    current: Figures
    prior: Figures
    ageing: AgeingFigures


def category_names() -> dict[int | None, str]:
    names: dict[int | None, str] = dict(
        db.session.execute(select(Category.id, Category.name)).all()
    )
    names[None] = "Uncategorised"
    return names


def _pareto_rows(bars: list[ParetoBar], label: Callable[[object], str]) -> list[tuple[str, ...]]:
    return [
        (
            label(bar.key),
            str(bar.count),
            f"{bar.share * 100:.1f} %",
            f"{bar.cumulative_share * 100:.1f} %",
            "yes" if bar.vital_few else "",
        )
        for bar in bars
    ]


PARETO_COLUMNS = ("Category", "Count", "Share", "Cumulative", "Vital few")


def dashboard(scope: Scope, control_process_name: str = "all processes") -> Dashboard:
    """The whole dashboard for `scope`: KPI tiles with the previous period's values, the two
    Pareto charts, the c-chart of weekly complaints, CAPA ageing and nonconformity risk bands.
    Cached like the figures (METRICS_CACHE_SECONDS), charts included."""
    return cached(
        ("dashboard", scope, control_process_name),
        lambda: _dashboard(scope, control_process_name),
    )


# The c-chart table's verdict for a week not over yet or cut short by the period's end.
PARTIAL_WEEK = "partial week, not judged"


def _dashboard(scope: Scope, control_process_name: str) -> Dashboard:
    previous = scope.previous()
    current, prior = figures(scope), figures(previous)
    tiles = [Tile(kpi, kpi.read(current), kpi.read(prior)) for kpi in KPIS.values()]

    names = category_names()

    def category_label(key: object) -> str:
        return names.get(key, f"Category {key}")  # type: ignore[arg-type]

    def cause_label(key: object) -> str:
        return str(key).title()

    # Ties in the Pareto charts go by the name shown (docs/metrics.md), not by id.
    category_bars = pareto(complaint_category_counts(scope), name=category_label)
    cause_bars = pareto(root_cause_category_counts(scope), name=cause_label)
    weekly = weekly_complaint_counts(scope)
    counts = [count for _, count in weekly]
    whole_weeks = first_partial_week(scope)
    limits = c_chart_limits(counts[:whole_weeks])
    points = c_chart(counts, limits, partial_from=whole_weeks)
    week_labels = [start.strftime("%d %b") for start, _ in weekly]
    ageing = capa_ageing(scope)

    control_title = f"Weekly complaints, {control_process_name} (c-chart)"
    chart_list = [
        Chart(
            "complaint-categories",
            "Complaint categories (Pareto)",
            charts.pareto_chart_svg(
                category_bars, "Complaint categories (Pareto)", label=category_label
            ),
            PARETO_COLUMNS,
            _pareto_rows(category_bars, category_label),
        ),
        Chart(
            "root-causes",
            "Root-cause categories (Pareto)",
            charts.pareto_chart_svg(
                cause_bars, "Root-cause categories (Pareto)", label=cause_label
            ),
            PARETO_COLUMNS,
            _pareto_rows(cause_bars, cause_label),
        ),
        Chart(
            "weekly-complaints",
            control_title,
            charts.control_chart_svg(points, limits, week_labels, control_title),
            ("Week from", "Complaints", "Centre", "Upper limit", "Lower limit", "Out of control"),
            [
                (
                    start.isoformat(),
                    str(point.count),
                    f"{limits.centre:.2f}",
                    f"{limits.upper:.2f}",
                    f"{limits.lower:.2f}",
                    PARTIAL_WEEK if point.partial else "yes" if point.out_of_control else "",
                )
                for (start, _), point in zip(weekly, points, strict=True)
            ],
        ),
        Chart(
            "capa-ageing",
            "Open CAPAs by age",
            charts.bar_chart_svg(ageing.buckets, "Open CAPAs by age", highlight=("over 90 days",)),
            ("Age", "Open CAPAs"),
            [(name, str(count)) for name, count in ageing.buckets]
            + [("of which past their due date", str(ageing.overdue))],
        ),
        Chart(
            "rpn-bands",
            "Nonconformities by risk priority",
            charts.bar_chart_svg(
                [(name.title(), count) for name, count in current.rpn_bands.items()],
                "Nonconformities by risk priority",
                highlight=("High",),
            ),
            ("RPN band", "Nonconformities"),
            [(name.title(), str(count)) for name, count in current.rpn_bands.items()],
        ),
    ]
    return Dashboard(scope, previous, tiles, chart_list, current, prior, ageing)


def tile_rows(board: Dashboard) -> list[tuple[str, ...]]:
    """The KPI tiles as CSV rows: key, label, unit, this period, previous period, change."""
    return [
        (
            tile.kpi.key,
            tile.kpi.label,
            tile.kpi.unit.value,
            UNKNOWN if tile.value is None else f"{tile.value:.6g}",
            UNKNOWN if tile.previous is None else f"{tile.previous:.6g}",
            UNKNOWN if tile.change is None else f"{tile.change:.4f}",
        )
        for tile in board.tiles
    ]


def scope_of_range(first: date, last: date, today: date | None = None, **filters: object) -> Scope:
    """The scope of a chosen from–to range (checked with `kpis.period_problem`): its whole UTC
    days, covered up to today while it is still running, as the quality review pack does (days
    yet to come would count as zeros and drag the control chart below its limits)."""
    today = today or utcnow().date()
    if first <= today:
        last = min(last, today)
    return Scope.between(first, last, **filters)  # type: ignore[arg-type]


def period_label(scope: Scope) -> str:
    last: date = (scope.end.date()).fromordinal(scope.end.date().toordinal() - 1)
    return f"{scope.start.date().isoformat()} – {last.isoformat()}"
