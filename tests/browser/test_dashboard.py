"""A quality lead opens the dashboard, narrows it to one process and sees the figures change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.complaints.models import Complaint
from app.extensions import db
from app.organisation.models import Category, Process, Site
from tests.browser.conftest import LiveServer
from tests.browser.playwright_api import Page, expect
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.browser


def seed_complaints(live_server: LiveServer) -> None:
    """Three complaints for Dashboard billing and two for Dashboard repairs, all received in
    the last week (the server's database is its own and keeps them)."""
    with live_server.app.app_context():
        site = Site(code="DB1", name="Dashboard site")
        billing = Process(name="Dashboard billing", site=site)
        repairs = Process(name="Dashboard repairs", site=site)
        category = Category(name="Dashboard category")
        db.session.add_all([site, billing, repairs, category])
        now = datetime.now(UTC)
        for index, process in enumerate([billing, billing, billing, repairs, repairs]):
            db.session.add(
                Complaint(
                    reference=f"CMP-BR-{index:06d}",
                    title=f"Browser complaint {index}",
                    received_at=now - timedelta(days=index + 1),
                    channel="phone",
                    severity="low",
                    process=process,
                    category=category,
                )
            )
        db.session.commit()


def test_a_lead_filters_the_dashboard_by_process(page: Page, live_server: LiveServer) -> None:
    seed_complaints(live_server)
    lead = live_server.create_user("quality_lead", full_name="Dana Dashboard")
    page.goto("/login")
    page.get_by_label("E-mail").fill(lead.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    complaints = page.get_by_test_id("kpi-complaints")
    page.get_by_label("Period", exact=True).select_option(label="Last 30 days")
    # The site is this test's own: other browser tests share the server and add complaints.
    page.get_by_label("Site", exact=True).select_option(label="Dashboard site")
    page.get_by_test_id("apply-filters").click()
    expect(complaints).to_have_text("5")
    expect(page.get_by_role("img", name="Complaint categories (Pareto)")).to_be_visible()

    page.get_by_label("Process", exact=True).select_option(label="Dashboard repairs")
    page.get_by_test_id("apply-filters").click()
    expect(complaints).to_have_text("2")
    expect(page.get_by_label("Process", exact=True)).to_have_value(str(_process_id(live_server)))
    expect(
        page.get_by_role("img", name="Weekly complaints, Dashboard repairs (c-chart)")
    ).to_be_visible()


def _process_id(live_server: LiveServer) -> int:
    with live_server.app.app_context():
        return db.session.scalar(select(Process.id).where(Process.name == "Dashboard repairs"))


def test_a_lead_analyses_a_past_range_and_is_told_of_a_bad_one(
    page: Page, live_server: LiveServer
) -> None:
    """Two complaints from March 2011 (an imported history, no times known): a from–to range
    shows them, with "–" for the times; an inverted range is a field error."""
    with live_server.app.app_context():
        for index in range(2):
            db.session.add(
                Complaint(
                    reference=f"CMP-HIST-{index:06d}",
                    title=f"Old complaint {index}",
                    received_at=datetime(2011, 3, 10 + index, 9, tzinfo=UTC),
                    channel="letter",
                    severity="low",
                    status="resolved",
                )
            )
        db.session.commit()
    lead = live_server.create_user("quality_lead", full_name="Hana History")
    page.goto("/login")
    page.get_by_label("E-mail").fill(lead.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.get_by_label("From (UTC)").fill("2011-03-01")
    page.get_by_label("To (UTC)").fill("2011-03-31")
    page.get_by_test_id("apply-filters").click()
    expect(page.get_by_test_id("kpi-complaints")).to_have_text("2")
    expect(page.get_by_test_id("kpi-resolution_mean_days")).to_have_text("–")
    expect(page.get_by_text("Figures for 2011-03-01 – 2011-03-31 (UTC)")).to_be_visible()

    page.get_by_label("From (UTC)").fill("2011-03-31")
    page.get_by_label("To (UTC)").fill("2011-03-01")
    page.get_by_test_id("apply-filters").click()
    expect(page.get_by_text("The end date is before the start date.")).to_be_visible()
