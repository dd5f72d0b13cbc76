"""The dashboard, objectives, the financial case and principle coverage, as a user sees them.

The dataset is shifted so that its 10 March is today: "the last 30 days" then holds c1–c6
(c7 lies tomorrow), see tests/metrics/dataset.py.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.core.audit import AuditEvent
from app.core.db import utcnow
from app.extensions import db
from app.metrics import objectives
from app.organisation.models import Category, Process
from tests.metrics import dataset


@pytest.fixture()
def loop(app, db_connection):
    shift = utcnow().date() - date(2026, 3, 10)
    with app.app_context():
        built = dataset.build(shift=timedelta(days=shift.days))
        ids = {
            "p1": built.p1.id,
            "s2": built.s2.id,
            "a": built.a.id,
            "initiative": None,
        }
        db.session.commit()
    return ids


def tile(html: str, key: str) -> str:
    match = re.search(rf'data-testid="kpi-{key}">([^<]*)<', html)
    assert match, f"no tile {key}"
    return match.group(1)


def test_the_dashboard_shows_kpis_charts_and_their_numbers(client, login, loop) -> None:
    login("contributor")
    response = client.get("/?period=30")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert tile(html, "complaints") == "6"  # c1–c6
    assert tile(html, "escalation_rate") == "33.3 %"  # c2, c4 of 6
    assert html.count("<svg") >= 5  # two Paretos, the c-chart, CAPA ageing, RPN bands
    assert "<script" not in html.split("</main>")[0].split("<main")[1]
    assert "Complaint categories (Pareto)" in html
    assert "<td>Cat A</td><td>5</td>" in html  # the numbers under the Pareto chart
    # Five inline charts in one document: each id once, and every reference finds its own chart.
    ids = re.findall(r'\sid="([^"]+)"', html)
    duplicated = sorted({name for name in ids if ids.count(name) > 1})
    assert not duplicated, f"ids defined twice: {duplicated[:5]}"
    assert set(re.findall(r"url\(#([^)]+)\)", html)) <= set(ids)


def test_filters_change_the_numbers(client, login, loop) -> None:
    login("quality_lead")
    billing = client.get(f"/?period=30&process_id={loop['p1']}").get_data(as_text=True)
    assert tile(billing, "complaints") == "4"  # c1, c2, c5, c6
    assert "Weekly complaints, Billing (c-chart)" in billing
    phone = client.get("/?period=30&channel=phone").get_data(as_text=True)
    assert tile(phone, "complaints") == "4"  # c1, c3, c4, c6
    site_two = client.get(f"/?period=30&site_id={loop['s2']}").get_data(as_text=True)
    assert tile(site_two, "complaints") == "2"  # c3, c4


def test_a_bad_filter_is_refused_with_its_error(client, login, loop) -> None:
    login("quality_lead")
    response = client.get("/?period=7&channel=pigeon")
    assert response.status_code == 422
    assert "Not a valid choice" in response.get_data(as_text=True)


def test_kpis_and_chart_numbers_download_as_csv(client, login, loop) -> None:
    login("auditor")
    kpis = client.get("/dashboard/kpis.csv?period=30")
    assert kpis.status_code == 200 and kpis.mimetype == "text/csv"
    lines = kpis.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0] == "kpi,label,unit,this_period,previous_period,change"
    assert "complaints,Complaints,count,6,0," in lines
    categories = client.get(
        f"/dashboard/complaint-categories.csv?period=30&process_id={loop['p1']}"
    )
    rows = categories.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert rows[0] == "Category,Count,Share,Cumulative,Vital few"
    assert rows[1] == "Cat A,4,100.0 %,100.0 %,yes"
    assert client.get("/dashboard/nothing.csv").status_code == 404
    # Links on the page carry only the filters, whatever else the address holds.
    page = client.get("/?period=30&chart=x&format=y").get_data(as_text=True)
    assert "/dashboard/kpis.csv?period=30" in page and "format=y" not in page


def test_a_lead_sets_an_objective_an_initiative_and_a_goal(client, login, loop) -> None:
    lead = login("quality_lead")
    response = client.post(
        "/objectives/new",
        data={"title": "Fix problems fast", "owner_id": lead.id, "principle_ids": ["1"]},
    )
    assert response.status_code == 302
    objective_url = response.headers["Location"]
    response = client.post(
        objective_url + "/initiatives/new",
        data={"title": "Next-day call-backs", "owner_id": lead.id, "principle_ids": []},
    )
    assert response.status_code == 422  # no principle
    assert "at least one TQM principle" in response.get_data(as_text=True)
    response = client.post(
        objective_url + "/initiatives/new",
        data={"title": "Next-day call-backs", "owner_id": lead.id, "principle_ids": ["1", "6"]},
    )
    assert response.status_code == 302
    page = client.get(objective_url).get_data(as_text=True)
    initiative_id = re.search(r"/initiatives/(\d+)/goals/new", page).group(1)
    today = utcnow().date()
    goal = {
        "kpi": "complaints",
        "baseline_start": (today - timedelta(days=59)).isoformat(),
        "baseline_end": (today - timedelta(days=30)).isoformat(),
        "target_kind": "relative",
        "target_value": "20",
        "deadline": (today + timedelta(days=60)).isoformat(),
        "owner_id": lead.id,
    }
    bad = client.post(f"/initiatives/{initiative_id}/goals/new", data={**goal, "deadline": ""})
    assert bad.status_code == 422
    response = client.post(f"/initiatives/{initiative_id}/goals/new", data=goal)
    assert response.status_code == 302
    page = client.get(objective_url).get_data(as_text=True)
    assert "Next-day call-backs" in page
    # The baseline (60–31 days ago) held no complaint, so the target is 0 and the last 30 days'
    # six complaints miss it.
    assert "Off track" in page
    assert "Goal" in client.get("/").get_data(as_text=True)
    listing = client.get("/objectives").get_data(as_text=True)
    assert "Fix problems fast" in listing and "Next-day call-backs" in listing


def test_the_financial_case_calculates_and_refuses_bad_assumptions(client, login, loop) -> None:
    login("auditor")
    response = client.get(
        "/financial-case?annual_value=1000&margin_percent=20&lifetime_years=5"
        "&acquisition_cost=300&period=90"
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-testid="lifetime-value">1,000.00 EUR<' in html
    assert 'data-testid="paradox-recovered"' in html
    assert "<title>Retention by group</title>" in html
    bad = client.get("/financial-case?margin_percent=150&lifetime_years=0&acquisition_cost=x")
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert "Number must be between 0 and 100" in text
    assert "Number must be between 0.1 and 100" in text  # a lifetime of 0
    assert "Not a valid decimal value" in text  # the acquisition cost "x"
    assert 'data-testid="net-benefit"' not in text
    default = client.get("/financial-case")
    assert default.status_code == 200 and 'data-testid="net-benefit"' in default.get_data(
        as_text=True
    )


def test_principle_coverage_lists_the_eight_principles(client, login, loop) -> None:
    login("contributor")
    html = client.get("/principle-coverage").get_data(as_text=True)
    assert html.count('data-testid="principle-') == 8
    assert "No recent work" in html


def test_dashboard_queries_do_not_grow_with_the_data(
    app, client, login, make_user, count_queries, db_connection
) -> None:
    login("quality_lead")

    def statements() -> int:
        responses = []
        count = count_queries(lambda: responses.append(client.get("/?period=30")))
        assert responses[0].status_code == 200
        return count

    shift = timedelta(days=(utcnow().date() - date(2026, 3, 10)).days)
    with app.app_context():
        built = dataset.build(shift=shift)
        db.session.commit()
        process_id, category_id = built.p2.id, built.b.id
    small = statements()
    with app.app_context():
        process, category = (
            db.session.get(Process, process_id),
            db.session.get(Category, category_id),
        )
        received = dataset.at(3, 6) + shift
        db.session.add_all(
            dataset.complaint(f"more{i}", received, process, "web_form", category, response=i)
            for i in range(20)
        )
        db.session.commit()
    assert statements() == small


def test_each_goal_costs_a_fixed_number_of_queries(
    app, client, login, make_user, count_queries, db_connection
) -> None:
    lead = login("quality_lead")
    with app.app_context():
        objective = objectives.create_objective(title="O", owner_id=lead.id)
        initiative = objectives.create_initiative(
            objective, title="I", owner_id=lead.id, principle_ids=[1]
        )
        db.session.commit()
        initiative_id = initiative.id

    def add_goal() -> None:
        with app.app_context():
            objectives.create_goal(
                db.session.get(type(initiative), initiative_id),
                kpi="complaints",
                baseline_start=date(2026, 1, 1),
                baseline_end=date(2026, 1, 31),
                target_kind="relative",
                target_value=10,
                deadline=date(2027, 6, 30),
                owner_id=lead.id,
            )
            db.session.commit()

    def statements() -> int:
        return count_queries(lambda: client.get("/objectives"))

    add_goal()
    one = statements()
    add_goal()
    two = statements()
    add_goal()
    three = statements()
    # Each goal runs its own two KPI queries (baseline and current); loading never goes N+1.
    assert two - one == three - two == 2


def test_a_lead_changes_a_goal_and_the_change_is_audited(client, login, app) -> None:
    lead = login("quality_lead")
    with app.app_context():
        objective = objectives.create_objective(title="O", owner_id=lead.id)
        initiative = objectives.create_initiative(
            objective, title="I", owner_id=lead.id, principle_ids=[2]
        )
        goal = objectives.create_goal(
            initiative,
            kpi="complaints",
            baseline_start=date(2026, 1, 1),
            baseline_end=date(2026, 1, 31),
            target_kind="relative",
            target_value=10,
            deadline=date(2027, 6, 30),
            owner_id=lead.id,
        )
        db.session.commit()
        goal_id, version = goal.id, goal.version
    form = client.get(f"/goals/{goal_id}/edit").get_data(as_text=True)
    assert 'value="2027-06-30"' in form
    data = {
        "kpi": "complaints",
        "baseline_start": "2026-01-01",
        "baseline_end": "2026-01-31",
        "target_kind": "relative",
        "target_value": "25",
        "deadline": "2027-03-31",
        "owner_id": lead.id,
        "version": version,
    }
    assert client.post(f"/goals/{goal_id}/edit", data=data).status_code == 302
    with app.app_context():
        changes = db.session.scalars(
            select(AuditEvent.changes).where(
                AuditEvent.record_type == "metric_goal",
                AuditEvent.record_id == str(goal_id),
                AuditEvent.action == "update",
            )
        ).one()
    assert "2027-03-31" in changes and "target_value" in changes
    stale = client.post(f"/goals/{goal_id}/edit", data={**data, "target_value": "30"})
    assert stale.status_code == 422  # the form's version is now out of date
    assert "changed by someone else" in stale.get_data(as_text=True)


def test_the_running_week_is_shown_as_partial_and_not_judged(client, login, loop) -> None:
    # 30 days up to today: four whole weeks and yesterday with today, still running.
    login("auditor")
    csv = client.get("/dashboard/weekly-complaints.csv?period=30").get_data(as_text=True)
    rows = csv.lstrip("\ufeff").splitlines()[1:]
    assert len(rows) == 5
    assert rows[-1].endswith(',"partial week, not judged"')
    assert not any("partial" in row for row in rows[:-1])
