"""Measured metrics: fed through the API and through a CSV file, refused cleanly on bad input,
then a SMART goal on them with its status, exactly as on a computed KPI."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from io import BytesIO

import pytest
from sqlalchemy import func, select

from app.core.errors import ServiceError
from app.extensions import db
from app.metrics import catalogue, measured, objectives
from app.metrics.kpis import Scope
from app.metrics.models import MeasuredMetric, MetricValue
from app.metrics.objectives import GoalStatus

PATH = "/api/v1/metrics/{key}/values"


def _metric(**overrides) -> MeasuredMetric:
    values = {
        "key": "marketing_roi",
        "label": "Marketing ROI",
        "category": "marketing",
        "unit": "rate",
        "better": "higher",
    }
    return measured.create_metric(**{**values, **overrides})


def _initiative(owner_id: int):
    objective = objectives.create_objective(
        title="Increase customer retention and loyalty", owner_id=owner_id
    )
    return objectives.create_initiative(
        objective, title="Win-back campaign", owner_id=owner_id, principle_ids=[1]
    )


# --- the API --------------------------------------------------------------------------------


@pytest.fixture()
def visits(app, db_connection, committed):
    return committed(
        lambda: (
            _metric(key="web_visits", label="Web visits", unit="count", category="marketing").key
        )
    )


def test_the_api_records_a_month_and_is_idempotent_for_the_same_value(
    client, make_token, conforms, committed, visits
) -> None:
    auth = make_token("metrics")
    response = client.post(
        PATH.format(key=visits), json={"period": "2026-10", "value": 1200}, headers=auth
    )
    body = conforms(response, "POST", PATH)
    assert response.status_code == 201
    assert body["period"] == "2026-10" and body["value"] == 1200 and body["created"] is True

    again = client.post(
        PATH.format(key=visits), json={"period": "2026-10", "value": 1200.0}, headers=auth
    )
    assert again.status_code == 200
    assert conforms(again, "POST", PATH)["created"] is False

    other = client.post(
        PATH.format(key=visits), json={"period": "2026-10", "value": 1300}, headers=auth
    )
    problem = conforms(other, "POST", PATH)
    assert other.status_code == 409
    assert "already has the value 1200" in problem["detail"]
    stored = committed(lambda: db.session.scalars(select(MetricValue.value)).all())
    assert stored == [Decimal("1200.0000")]


@pytest.mark.parametrize(
    ("key", "body", "status", "words"),
    [
        ("no_such_metric", {"period": "2026-10", "value": 1}, 404, "no measured metric"),
        ("web_visits", {"period": "2999-01", "value": 1}, 422, "in the future"),
        ("web_visits", {"period": "2026-10", "value": "many"}, 422, ""),
        ("web_visits", {"period": "October", "value": 1}, 422, ""),
        ("web_visits", {"period": "2026-10", "value": -5}, 422, "cannot be negative"),
    ],
)
def test_the_api_refuses_bad_input_and_changes_nothing(
    client, make_token, conforms, count, visits, key, body, status, words
) -> None:
    response = client.post(PATH.format(key=key), json=body, headers=make_token("metrics"))
    problem = conforms(response, "POST", PATH)
    assert response.status_code == status
    assert words in (problem.get("detail") or "") + str(problem.get("errors"))
    assert count(MetricValue) == 0


def test_the_api_needs_the_metrics_scope(client, make_token, visits) -> None:
    response = client.post(
        PATH.format(key=visits),
        json={"period": "2026-10", "value": 1},
        headers=make_token("read,intake,write"),
    )
    assert response.status_code == 403


def test_a_goal_on_a_metric_fed_through_the_api(
    client, make_token, committed, make_user, login, visits
) -> None:
    auth = make_token("metrics")
    for period, value in [("2026-01", 100), ("2026-02", 110), ("2026-03", 90)]:
        assert (
            client.post(
                PATH.format(key=visits), json={"period": period, "value": value}, headers=auth
            ).status_code
            == 201
        )
    for period, value in [("2026-04", 120), ("2026-05", 125), ("2026-06", 130)]:
        client.post(PATH.format(key=visits), json={"period": period, "value": value}, headers=auth)
    owner = make_user("quality_lead")

    def measure():
        goal = objectives.create_goal(
            _initiative(owner.id),
            kpi=visits,
            baseline_start=date(2026, 1, 1),
            baseline_end=date(2026, 3, 31),
            target_kind="relative",
            target_value=Decimal(20),
            deadline=date(2026, 9, 30),
            owner_id=owner.id,
        )
        return objectives.measure_goal(goal, today=date(2026, 6, 30))

    result = committed(measure)
    login("auditor")
    page = client.get(f"/strategy/metrics/{visits}").get_data(as_text=True)
    assert "Win-back campaign" in page and "target 360" in page
    # Counts add up over the window: baseline 300, target 360; April–June 375 (91 days).
    assert result.baseline == pytest.approx(300)
    assert result.target == pytest.approx(360)
    assert result.current == pytest.approx(375)
    assert result.met and result.status is GoalStatus.ON_TRACK
    assert result.show(result.current) == "375"


# --- a CSV file and the pages ---------------------------------------------------------------


CSV = b"period,value\n2026-01,10\n2026-02,12.5\n2026-03,11.5\n2026-04,8\n2026-05,7\n2026-06,6\n"


def test_a_csv_import_then_a_goal_with_its_status(session, make_user) -> None:
    metric = _metric(
        key="it_outage_rate", label="Outage minutes share", category="it", better="lower"
    )
    summary = measured.import_values(metric, "outages.csv", CSV, today=date(2026, 7, 2))
    assert (summary.created, summary.unchanged) == (6, 0)
    # A second import of the same file changes nothing.
    again = measured.import_values(metric, "outages.csv", CSV, today=date(2026, 7, 2))
    assert (again.created, again.unchanged) == (0, 6)
    # Rates are entered as percentages and measured as shares, like the computed rates.
    first_quarter = Scope.between(date(2026, 1, 1), date(2026, 3, 31))
    assert catalogue.value(metric.key, first_quarter) == pytest.approx(0.1133333, rel=1e-5)

    owner = db.session.merge(make_user("quality_lead"))
    goal = objectives.create_goal(
        _initiative(owner.id),
        kpi=metric.key,
        baseline_start=date(2026, 1, 1),
        baseline_end=date(2026, 3, 31),
        target_kind="absolute",
        target_value=Decimal(5),
        deadline=date(2026, 12, 31),
        owner_id=owner.id,
    )
    result = objectives.measure_goal(goal, today=date(2026, 6, 30))
    assert result.target == pytest.approx(0.05)
    assert result.current == pytest.approx(0.07)  # April–June: (8 + 7 + 6) / 3 %
    # Progress (7 − 11.33) / (5 − 11.33) = 0.68 against 0.33 of the time gone: on track.
    assert result.status is GoalStatus.ON_TRACK
    assert result.show(result.current) == "7.0 %"


def test_an_import_with_one_bad_row_saves_nothing(session) -> None:
    metric = _metric()
    measured.record_value(
        metric, period="2026-02", value="3", source="form", today=date(2026, 7, 1)
    )
    bad = b"Period;Value\n2026-01;1\n2026-02;4\n2026-03;lots\n2027-01;1\n"
    with pytest.raises(ServiceError) as refused:
        measured.import_values(metric, "roi.csv", bad, today=date(2026, 7, 1))
    message = refused.value.message
    assert message.startswith("Nothing was imported.")
    assert "row 3: 2026-02 already has 3" in message
    assert "row 4: Give a number" in message
    assert "row 5: The period 2027-01 is in the future" in message
    assert db.session.scalar(select(func.count()).select_from(MetricValue)) == 1


def test_the_form_says_a_month_exists_and_refuses_bad_values(client, login, committed) -> None:
    login("quality_lead")
    committed(lambda: _metric())
    page = "/strategy/metrics/marketing_roi"
    assert (
        client.post(page + "/values", data={"period": "2026-03", "value": "12.5"}).status_code
        == 302
    )
    same = client.post(page + "/values", data={"period": "2026-03", "value": "12.5"})
    assert same.status_code == 422
    assert "2026-03 exists already with this value" in same.get_data(as_text=True)
    other = client.post(page + "/values", data={"period": "2026-03", "value": "13"})
    assert other.status_code == 422
    assert "already has the value 12.5 for 2026-03" in other.get_data(as_text=True)
    text = client.post(page + "/values", data={"period": "2026-04", "value": "twelve"})
    assert text.status_code == 422 and "Give a number" in text.get_data(as_text=True)
    future = client.post(page + "/values", data={"period": "2999-04", "value": "1"})
    assert future.status_code == 422 and "in the future" in future.get_data(as_text=True)
    assert client.get(page).get_data(as_text=True).count("<td>2026-") == 1
    upload = client.post(
        page + "/import",
        data={"file": (BytesIO(b"period,value\n2026-04,x\n"), "roi.csv")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 422 and "Nothing was imported" in upload.get_data(as_text=True)
    ok = client.post(
        page + "/import",
        data={"file": (BytesIO(b"period,value\n2026-04,14\n2026-03,12.5\n"), "roi.csv")},
        content_type="multipart/form-data",
    )
    assert ok.status_code == 302
    assert client.get(page).get_data(as_text=True).count("<td>2026-") == 2


def test_a_metric_key_is_unique_and_never_a_computed_kpi(session) -> None:
    _metric()
    with pytest.raises(ServiceError, match="taken"):
        _metric()
    with pytest.raises(ServiceError, match="taken"):
        _metric(key="csat_mean")
    with pytest.raises(ServiceError, match="lower-case"):
        _metric(key="Bad Key")


def test_the_catalogue_lists_all_four_categories(client, login, committed) -> None:
    login("auditor")
    committed(lambda: _metric())
    page = client.get("/strategy/metrics").get_data(as_text=True)
    for name in ("Marketing", "Sales", "Customer service", "IT"):
        assert f'aria-label="{name}"' in page
    assert "Marketing ROI" in page and "Customer churn rate" in page


def test_an_xlsx_import_reads_dates_as_their_month(session) -> None:
    from openpyxl import Workbook

    metric = _metric(key="mrr", label="Monthly recurring revenue", category="sales", unit="money")
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Period", "Value"])
    sheet.append([date(2026, 4, 1), 410000])
    sheet.append(["2026-05", 412500.5])
    content = io.BytesIO()
    workbook.save(content)
    summary = measured.import_values(
        metric, "mrr.xlsx", content.getvalue(), today=date(2026, 6, 10)
    )
    assert summary.created == 2
    assert [(v.period_start, v.value) for v in measured.recent_values(metric)] == [
        (date(2026, 4, 1), Decimal("410000.0000")),
        (date(2026, 5, 1), Decimal("412500.5000")),
    ]
    # Money adds up over a window: April and May.
    spring = Scope.between(date(2026, 4, 1), date(2026, 5, 31))
    assert catalogue.value("mrr", spring) == pytest.approx(822500.5)
