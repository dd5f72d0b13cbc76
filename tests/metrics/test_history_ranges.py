"""History is visible: any from–to range on the dashboard, its CSV downloads and the quality
review pack, so an imported history (here a real slice of the 2015 Comcast export) is analysed.
Bad ranges are field errors (422), never a 500."""

from __future__ import annotations

import re
from datetime import date

import pytest

from reports.quality_review import ReviewPeriod, gather_quality_review
from tests.metrics.test_unknown_figures import import_sample
from tests.reports.conftest import read_pdf

RANGE = "date_from=2015-04-01&date_to=2015-06-30"


def tile(html: str, key: str) -> str:
    match = re.search(rf'data-testid="kpi-{key}">([^<]*)<', html)
    assert match, f"no tile {key}"
    return match.group(1)


@pytest.fixture()
def history(committed) -> None:
    committed(import_sample)


def test_the_dashboard_shows_an_imported_quarter(client, login, history) -> None:
    login("quality_lead")
    page = client.get(f"/?{RANGE}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Figures for 2015-04-01 – 2015-06-30 (UTC), against 2014-12-31 – 2015-03-31" in html
    assert tile(html, "complaints") == "15"
    assert tile(html, "response_mean_hours") == "–"
    assert tile(html, "first_contact_resolution_rate") == "–"
    assert 'value="2015-04-01"' in html and 'value="2015-06-30"' in html
    # The downloads carry the range.
    assert f"/dashboard/kpis.csv?{RANGE}" in html.replace("&amp;", "&")
    # Beside it the preset "last 90 days" shows none of that history.
    assert tile(client.get("/?period=90").get_data(as_text=True), "complaints") == "0"


def test_the_csv_downloads_cover_the_range(client, login, history) -> None:
    login("auditor")
    kpis = client.get(f"/dashboard/kpis.csv?{RANGE}")
    assert kpis.status_code == 200 and kpis.mimetype == "text/csv"
    lines = kpis.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert "complaints,Complaints,count,15,0,–" in lines
    assert "response_mean_hours,Time to first response (mean),hours,–,–,–" in lines
    assert "first_contact_resolution_rate,First-contact resolution rate,rate,–,–,–" in lines
    weekly = client.get(f"/dashboard/weekly-complaints.csv?{RANGE}").get_data(as_text=True)
    rows = weekly.lstrip("\ufeff").splitlines()
    assert rows[1].startswith("2015-04-01,")
    assert len(rows) == 1 + 13  # 91 days: 13 weeks
    assert sum(int(row.split(",")[1]) for row in rows[1:]) == 15


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("date_from=2015-06-30&date_to=2015-04-01", "date_to", "The end date is before the start"),
        ("date_from=2015-13-01&date_to=2015-06-30", "date_from", "Not a valid date value"),
        ("date_from=yesterday&date_to=2015-06-30", "date_from", "Not a valid date value"),
        ("date_from=2015-04-01", "date_to", "Give both days of the range"),
        ("date_from=1990-01-01&date_to=2015-06-30", "date_from", "at most 7,305 days (20 years)"),
        ("date_from=0001-01-01&date_to=0001-01-05", "date_from", "from 1900-01-01 on"),
    ],
)
def test_a_bad_range_is_a_field_error(client, login, query, field, message) -> None:
    login("quality_lead")
    for url in (f"/?{query}", f"/dashboard/kpis.csv?{query}"):
        response = client.get(url)
        html = response.get_data(as_text=True)
        assert response.status_code == 422, url
        shown = re.search(rf'id="{field}-error"><div>([^<]*)</div>', html)
        assert shown and message in shown.group(1), url


def test_the_pack_covers_an_eight_year_history(session) -> None:
    """2013–2020 in one pack: no two-year cap any more (the limit is 20 years)."""
    import_sample()
    report = gather_quality_review(ReviewPeriod(date(2013, 1, 1), date(2020, 12, 31)))
    kpis = {kpi["key"]: kpi for kpi in report.data["kpis"]}
    assert kpis["complaints"]["value"] == 15
    assert report.data["period"]["days"] == 2922
    weeks = report.data["weekly_complaints"]["weeks"]
    assert len(weeks) == 418 and sum(week["count"] for week in weeks) == 15


def test_the_pack_of_the_imported_quarter_downloads(client, login, history) -> None:
    login("auditor")
    response = client.get(f"/reports/quality-review.pdf?{RANGE}")
    assert response.status_code == 200
    assert "Quality review pack 2015-04-01 to 2015-06-30" in read_pdf(response.data).flat
    too_long = client.get("/reports/quality-review.pdf?date_from=1990-01-01&date_to=2015-06-30")
    assert too_long.status_code == 422
    assert "at most 7,305 days (20 years)" in too_long.get_data(as_text=True)
