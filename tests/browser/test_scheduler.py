"""The scheduler in the browser: an administrator runs the reminders job from its page and sees the
run in the history; the owner of an overdue CAPA then sees the reminder and its unread count."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app.capa.services import today_utc
from app.extensions import db
from tests.browser.conftest import LiveServer
from tests.browser.playwright_api import Page, expect
from tests.browser.test_sign_in import sign_in
from tests.capa.factories import plan
from tests.factories import unique_email

pytestmark = pytest.mark.browser


def overdue_capa(live_server: LiveServer, owner_id: int) -> str:
    with live_server.app.app_context():
        from app.accounts.models import User

        capa = plan(db.session.get(User, owner_id), title="Fix the double refunds")
        capa.due_date = today_utc() - timedelta(days=2)
        db.session.commit()
        return capa.reference


def test_an_admin_runs_the_reminders_and_the_owner_is_reminded(
    page: Page, live_server: LiveServer
) -> None:
    admin = live_server.create_user("admin", email=unique_email("ada"), full_name="Ada Admin")
    lead = live_server.create_user("quality_lead", email=unique_email("lee"), full_name="Lee Lead")
    reference = overdue_capa(live_server, lead.id)

    sign_in(page, admin.email)
    navigation = page.get_by_role("navigation", name="Main")
    navigation.get_by_text("Administration").click()  # the menu opens
    navigation.get_by_role("link", name="Scheduler").click()
    expect(page.get_by_role("heading", name="Scheduler")).to_be_visible()
    page.get_by_role("link", name="Overdue reminders").click()
    expect(page.get_by_role("heading", name=re.compile("Overdue reminders"))).to_be_visible()
    expect(page.get_by_text("system:overdue-reminders")).to_be_visible()
    page.get_by_role("button", name="Run now").click()

    expect(page.get_by_role("alert")).to_contain_text("Overdue reminders ran:")
    history = page.get_by_test_id("run-history")
    first_run = history.locator("tbody tr").first
    expect(first_run).to_contain_text("Succeeded")
    expect(first_run).to_contain_text("Manual by Ada Admin")
    expect(first_run).to_contain_text(re.compile(r"capas: [1-9]"))

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, lead.email)
    navigation = page.get_by_role("navigation", name="Main")
    expect(navigation.get_by_test_id("unread-count")).to_have_text(re.compile(r"^\s*1"))
    navigation.get_by_test_id("notifications-link").click()
    notification = page.get_by_test_id("notification")
    expect(notification).to_contain_text(f"Overdue: {reference}")
    notification.get_by_role("button", name="Open").click()
    expect(page.get_by_role("heading", name=re.compile(reference))).to_be_visible()
    expect(
        page.get_by_role("navigation", name="Main").get_by_test_id("unread-count")
    ).to_have_count(0)
