"""The dashboard, the financial case and the objectives pages on `make run`'s demo data."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.complaints.models import Complaint, seconds_between
from app.extensions import db
from app.metrics import objectives, services
from app.metrics.kpis import Scope
from tests.conftest import TEST_PASSWORD
from tests.factories import create_user


def test_the_pages_work_on_the_demo_data_with_the_documented_numbers(databases) -> None:
    app = databases.new_migrated_app()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed-demo", "--complaints", "800"])
    assert result.exit_code == 0, result.output
    assert "5 metric goals" in result.output
    with app.app_context():
        create_user(role="quality_lead", email="demo-check@loop.example")
        db.session.commit()
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
    assert len(times) == 800 and any(row.resolution_seconds for row in times)
    for received, responded, resolved, response_seconds, resolution_seconds in times:
        assert response_seconds == seconds_between(responded, received)
        assert resolution_seconds == seconds_between(resolved, received)
    client = app.test_client()
    client.post("/login", data={"email": "demo-check@loop.example", "password": TEST_PASSWORD})
    page = client.get("/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    shown = re.search(r'data-testid="kpi-complaints">([^<]*)<', html).group(1)
    assert shown == f"{expected.complaints.complaints:,}"
    assert len(goals) == 5 and html.count('data-testid="goal-status"') == 5
    listing = client.get("/objectives").get_data(as_text=True)
    assert "Failures do not come back" in listing and "Resolve at first contact" in listing
    case = client.get("/financial-case")
    assert case.status_code == 200 and 'data-testid="net-benefit"' in case.get_data(as_text=True)
    assert client.get("/principle-coverage").status_code == 200
