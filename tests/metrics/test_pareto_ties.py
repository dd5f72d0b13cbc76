"""Pareto ties sort by the name shown (docs/metrics.md), not by the category's id."""

from __future__ import annotations

from datetime import date, timedelta

from app.complaints.models import Complaint
from app.core.spc import pareto
from app.extensions import db
from app.metrics import services
from app.metrics.kpis import Scope
from tests.capa.factories import make_category


def test_ties_go_by_name_ignoring_case() -> None:
    names = {1: "zebra crossing", 2: "Apple", 3: "banana", 10: "Cherry"}
    bars = pareto([(1, 3), (2, 3), (3, 3), (10, 5)], name=names.__getitem__)
    assert [names[bar.key] for bar in bars] == ["Cherry", "Apple", "banana", "zebra crossing"]


def test_the_dashboards_pareto_lists_equal_categories_alphabetically(session) -> None:
    # Created Zebra first (the lower id), then Apple: two complaints each, and one Mango.
    zebra, apple, mango = make_category("Zebra"), make_category("Apple"), make_category("Mango")
    first = date(2016, 1, 4)
    for number, category in enumerate([zebra, apple, zebra, apple, mango]):
        db.session.add(
            Complaint(
                reference=f"CMP-T-PAR{number}",
                title="Tie",
                received_at=Scope.between(first, first).start + timedelta(hours=number),
                channel="email",
                severity="medium",
                category=category,
            )
        )
    db.session.flush()
    board = services.dashboard(Scope.between(first, first + timedelta(days=6)))
    chart = next(chart for chart in board.charts if chart.key == "complaint-categories")
    assert [row[0] for row in chart.rows] == ["Apple", "Zebra", "Mango"]
