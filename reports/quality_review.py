"""The quality review pack for a period: the input to a management review (ISO 9001 clause 9.3).

It holds the KPIs of the period against the period before, the two Pareto charts (complaint
categories, root-cause categories), the c-chart of weekly complaint counts, nonconformities by risk
priority, the open and overdue CAPAs, the recurrence signals whose pattern ended in the period
(raised by the daily review then, or by a review of an imported history later), and the progress
of every objective's metric goals.

Nothing is computed here that the metrics already compute: the KPIs, Pareto bars, control limits
and charts are the dashboard's (`app.metrics.services.dashboard`, the same SVG as on the page), and
goals are measured by `app.metrics.objectives.measure_goal`. What is a state rather than a period
figure — open CAPAs — is read as of the pack's "as of" day: the period's last day, or today while
the period is still running (the figures then cover the days up to today); goals are measured as
of that day too, so a pack of a past month gathered again later shows the same goal windows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from app.capa import services as capa_services
from app.capa.models import OPEN_CAPA_STATUSES, Capa
from app.core.db import utcnow
from app.extensions import db
from app.metrics import objectives as objective_services
from app.metrics import services as metric_services
from app.metrics.kpis import Scope, period_problem
from app.organisation.models import Category, Process
from app.scheduler.models import RecurrenceSignal
from reports.base import Report, ReportError, day, name_of, report_data, when

CHART_KEYS = ("complaint-categories", "root-causes", "weekly-complaints")
CONTROL_PROCESS_NAME = "all processes"


@dataclass(frozen=True)
class ReviewPeriod:
    """Whole UTC days from `first` to `last`, both included."""

    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def scope(self) -> Scope:
        return Scope.between(self.first, self.last)

    def label(self) -> str:
        return f"{self.first.isoformat()} to {self.last.isoformat()}"


def month_before(moment: date) -> ReviewPeriod:
    """The calendar month before the one `moment` falls in (the archived pack's period)."""
    last = moment.replace(day=1) - timedelta(days=1)
    return ReviewPeriod(last.replace(day=1), last)


def check_period(period: ReviewPeriod) -> None:
    """Refuse an inverted or over-long period (ReportError; nothing is written): the dashboard's
    rule, `app.metrics.kpis.period_problem` (at most MAX_PERIOD_DAYS, 20 years)."""
    problem = period_problem(period.first, period.last)
    if problem is not None:
        field, message = problem
        raise ReportError(message, field=field)


def _kpis(board: metric_services.Dashboard) -> list[dict[str, Any]]:
    return [
        {
            "key": tile.kpi.key,
            "label": tile.kpi.label,
            "unit": tile.kpi.unit.value,
            "better": tile.kpi.better.value,
            "value": tile.value,
            "shown": tile.kpi.format(tile.value),
            "previous": tile.previous,
            "previous_shown": tile.kpi.format(tile.previous),
            "change": None if tile.change is None else round(tile.change, 6),
            "change_shown": "–" if tile.change is None else f"{tile.change * 100:+.1f} %",
            "improved": tile.improved,
        }
        for tile in board.tiles
    ]


def _pareto(chart: metric_services.Chart) -> list[dict[str, Any]]:
    return [
        {
            "category": row[0],
            "count": int(row[1]),
            "share": row[2],
            "cumulative": row[3],
            "vital_few": row[4] == "yes",
        }
        for row in chart.rows
    ]


def _control(chart: metric_services.Chart) -> dict[str, Any]:
    weeks = [
        {
            "week_from": row[0],
            "count": int(row[1]),
            "out_of_control": row[5] == "yes",
            "partial": row[5] == metric_services.PARTIAL_WEEK,
        }
        for row in chart.rows
    ]
    first = chart.rows[0] if chart.rows else None
    return {
        "title": chart.title,
        "centre": first[2] if first else None,
        "upper": first[3] if first else None,
        "lower": first[4] if first else None,
        "weeks": weeks,
    }


def _open_capas(as_of: date) -> list[dict[str, Any]]:
    capas = db.session.scalars(
        select(Capa)
        .options(joinedload(Capa.owner), selectinload(Capa.nonconformities))
        .where(Capa.status.in_(OPEN_CAPA_STATUSES))
        .order_by(Capa.due_date.is_(None), Capa.due_date, Capa.id)
    )
    rows = []
    for capa in capas:
        overdue = capa_services.is_overdue(capa, as_of)
        rows.append(
            {
                "reference": capa.reference,
                "title": capa.title,
                "status": capa.status.label,
                "owner": name_of(capa.owner),
                "due_date": day(capa.due_date),
                "overdue": overdue,
                "days_overdue": (as_of - capa.due_date).days if overdue and capa.due_date else 0,
                "planned_at": when(capa.created_at),
                "nonconformities": [nc.reference for nc in capa.nonconformities],
            }
        )
    return rows


def _recurrence_signals(scope: Scope) -> list[dict[str, Any]]:
    rows = db.session.execute(
        select(RecurrenceSignal, Process.name, Category.name)
        .options(joinedload(RecurrenceSignal.nonconformity))
        .outerjoin(Process, Process.id == RecurrenceSignal.process_id)
        .outerjoin(Category, Category.id == RecurrenceSignal.category_id)
        # A signal belongs to the period its pattern ends in: for the daily review that is when
        # it was raised; a review of an imported history raises today what ended back then.
        .where(RecurrenceSignal.window_end >= scope.start, RecurrenceSignal.window_end < scope.end)
        .order_by(RecurrenceSignal.window_end, RecurrenceSignal.id)
    ).all()
    return [
        {
            "raised_at": when(signal.raised_at),
            "fingerprint": signal.fingerprint,
            "process": process_name,
            "category": category_name,
            "rules": [rule.label for rule in signal.rule_list],
            "records": signal.record_count,
            "window_from": when(signal.window_start),
            "window_to": when(signal.window_end),
            "nonconformity": signal.nonconformity.reference,
            "nonconformity_status": signal.nonconformity.status.label,
        }
        for signal, process_name, category_name in rows
    ]


def _objectives(as_of: date) -> list[dict[str, Any]]:
    rows = []
    for objective in objective_services.list_objectives():
        goals = [goal for initiative in objective.initiatives for goal in initiative.goals]
        if not goals:
            rows.append({"objective": objective.title, "initiative": None, "goal": None})
            continue
        for goal in goals:
            measured = objective_services.measure_goal(goal, today=as_of)
            kpi = measured.kpi or metric_services.KPIS[goal.kpi]
            rows.append(
                {
                    "objective": objective.title,
                    "initiative": goal.initiative.title,
                    "goal": {
                        "kpi": kpi.label,
                        "baseline_from": day(goal.baseline_start),
                        "baseline_to": day(goal.baseline_end),
                        "baseline_value": measured.baseline,
                        "target_value": measured.target,
                        "current_value": measured.current,
                        "baseline": measured.show(measured.baseline),
                        "target": measured.show(measured.target),
                        "current": measured.show(measured.current),
                        "progress": None
                        if measured.progress is None
                        else round(measured.progress, 6),
                        "progress_shown": measured.progress_shown,
                        "expected_shown": measured.expected_shown,
                        "status": measured.status.label,
                        "deadline": day(goal.deadline),
                        "owner": name_of(goal.owner),
                    },
                }
            )
    return rows


def gather_quality_review(period: ReviewPeriod, today: date | None = None) -> Report:
    """The quality review pack of `period` (checked with `check_period`).

    A period with nothing in it still makes a pack: its data says `empty` and the PDF says so."""
    check_period(period)
    today = today or utcnow().date()
    as_of = min(period.last, today)
    # A period still running is covered up to today: days yet to come would count as zeros (and
    # drag the control chart below its limits).
    covered = ReviewPeriod(period.first, as_of) if period.first <= as_of else period
    scope = covered.scope
    board = metric_services.dashboard(scope, CONTROL_PROCESS_NAME)
    charts = {chart.key: chart for chart in board.charts if chart.key in CHART_KEYS}
    previous = scope.previous()
    complaint_categories = _pareto(charts["complaint-categories"])
    root_causes = _pareto(charts["root-causes"])
    signals = _recurrence_signals(scope)
    rpn_bands = dict(board.current.rpn_bands)
    empty = (
        board.current.complaints.complaints == 0
        and sum(rpn_bands.values()) == 0
        and not root_causes
        and not signals
    )
    filters = [("Period", period.label())]
    open_capas = _open_capas(as_of)
    data = report_data(
        filters,
        period={
            "first": day(period.first),
            "last": day(period.last),
            "days": period.days,
            "covered_last": day(covered.last),
            "covered_days": covered.days,
            "previous_first": day(previous.start.date()),
            "previous_last": day(previous.end.date() - timedelta(days=1)),
            "as_of": day(as_of),
        },
        empty=empty,
        kpis=_kpis(board),
        complaint_categories=complaint_categories,
        root_cause_categories=root_causes,
        weekly_complaints=_control(charts["weekly-complaints"]),
        nonconformities_by_rpn=rpn_bands,
        open_capas=open_capas,
        overdue_capas=sum(1 for capa in open_capas if capa["overdue"]),
        recurrence_signals=signals,
        objectives=_objectives(as_of),
    )
    return Report(
        kind="quality_review",
        title=f"Quality review pack {period.label()}",
        template="quality_review.html",
        data=data,
        filters=filters,
        record_type="quality_review",
        record_id=f"{day(period.first)}/{day(period.last)}",
        filename_stem=f"quality-review-{day(period.first)}-{day(period.last)}",
        subject=f"Management review input (ISO 9001 clause 9.3), {period.label()}",
        keywords=["quality review", "management review", "ISO 9001 9.3", period.label()],
        charts={key: chart.svg for key, chart in charts.items()},
    )
