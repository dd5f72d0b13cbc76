"""The dashboard, the financial case and the objectives pages on `make run`'s demo data."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.complaints.models import Complaint, seconds_between
from app.extensions import db
from app.metrics import objectives, services
from app.metrics.kpis import Scope
from tests.conftest import TEST_PASSWORD, DatabaseFactory
from tests.factories import create_user

DEMO_COMPLAINTS = 3000  # what `make run` seeds (seed-demo's default)


@pytest.fixture(scope="module")
def demo_app(databases: DatabaseFactory) -> Iterator[Flask]:
    """A database seeded as `make run` seeds it, with a quality lead to sign in as."""
    app = databases.new_migrated_app()
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert f"Seeded {DEMO_COMPLAINTS} complaints" in result.output
    assert "5 metric goals" in result.output
    with app.app_context():
        create_user(role="quality_lead", email="demo-check@loop.example")
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        app.extensions["loop_db"].engine.dispose()


@pytest.fixture()
def demo_client(demo_app: Flask) -> FlaskClient:
    client = demo_app.test_client()
    client.post("/login", data={"email": "demo-check@loop.example", "password": TEST_PASSWORD})
    return client


def main_text(html: str) -> str:
    """The page's main content, charts included (an empty chart says "No data" in its SVG)."""
    return html[html.index("<main") : html.index("</main>")]


def test_the_pages_work_on_the_demo_data_with_the_documented_numbers(
    demo_app: Flask, demo_client: FlaskClient
) -> None:
    with demo_app.app_context():
        expected = services.figures(Scope.last_days(90))
        times = db.session.execute(
            select(
                Complaint.received_at,
                Complaint.first_response_at,
                Complaint.resolved_at,
                Complaint.first_response_seconds,
                Complaint.resolution_seconds,
            )
        ).all()
        goals = [
            objectives.measure_goal(goal)
            for objective in objectives.list_objectives()
            for initiative in objective.initiatives
            for goal in initiative.goals
        ]
    # The seeding's bulk insert stores the durations the KPIs read, as the ORM would.
    assert len(times) == DEMO_COMPLAINTS and any(row.resolution_seconds for row in times)
    for received, responded, resolved, response_seconds, resolution_seconds in times:
        assert response_seconds == seconds_between(responded, received)
        assert resolution_seconds == seconds_between(resolved, received)
    page = demo_client.get("/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    shown = re.search(r'data-testid="kpi-complaints">([^<]*)<', html).group(1)
    assert shown == f"{expected.complaints.complaints:,}"
    # The five goals of app.demo.objectives and the seven of the method's objectives
    # (app.demo.strategy), measured or computed alike.
    assert len(goals) == 12 and html.count('data-testid="goal-status"') == 12
    listing = demo_client.get("/objectives").get_data(as_text=True)
    assert "Failures do not come back" in listing and "Resolve at first contact" in listing


# A figure the data cannot give shows as "–" alone in its cell or tile.
EMPTY_FIGURE = re.compile(r">\s*–\s*<")


@pytest.mark.parametrize("path", ["/", "/objectives", "/financial-case", "/principle-coverage"])
def test_every_tile_and_chart_of_the_default_views_has_demo_figures(
    demo_client: FlaskClient, path: str
) -> None:
    page = demo_client.get(path)
    assert page.status_code == 200
    main = main_text(page.get_data(as_text=True))
    assert "No data" not in main
    assert "Too few known outcomes" not in main
    assert not EMPTY_FIGURE.findall(main), EMPTY_FIGURE.findall(main)
    if path == "/":
        # Every tile has this period's value and the previous period's (last 90 days, before).
        values = re.findall(r'class="tile-value" data-testid="kpi-[a-z0-9_]+">([^<]*)<', main)
        assert len(values) == len(services.KPIS) and "–" not in values
        assert "previous –" not in main
        for key in ("root-causes", "rpn-bands", "capa-ageing", "weekly-complaints"):
            assert f'data-testid="chart-{key}"' in main
        assert main.count("<svg") >= 5
    if path == "/financial-case":
        assert 'data-testid="net-benefit"' in main and "not judged" not in main
    if path == "/principle-coverage":
        capas = re.findall(
            r'data-testid="principle-\d"[^>]*>\s*<th[^>]*>[^<]*</th>\s*<td>(\d+)', main
        )
        assert len(capas) == 8 and all(int(count) > 0 for count in capas)
