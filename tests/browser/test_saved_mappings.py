"""Saved import mappings in a real browser: find one, rename it, delete it through the dialog."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.intake import services
from tests.browser.conftest import LiveServer
from tests.browser.playwright_api import Page, expect
from tests.browser.test_sign_in import sign_in
from tests.factories import unique_email
from tests.intake.test_saved_mappings import DEFINITION

pytestmark = pytest.mark.browser


def test_a_lead_renames_and_deletes_a_saved_mapping(page: Page, live_server: LiveServer) -> None:
    lead = live_server.create_user("quality_lead", email=unique_email("maps"))
    name = f"Help desk {lead.id}"
    with live_server.app.app_context():
        services.save_mapping(name, DEFINITION, user=db.session.get(type(lead), lead.id))
        db.session.commit()

    sign_in(page, lead.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Import").click()
    page.get_by_role("link", name="Manage the saved mappings").click()
    page.get_by_role("link", name=name, exact=True).click()

    renamed = f"{name} (2026)"
    page.get_by_label("Name").fill(renamed)
    page.get_by_role("button", name="Rename").click()
    expect(page.get_by_text(f"Renamed the saved mapping “{name}” to “{renamed}”.")).to_be_visible()

    # The dialog asks first; cancelling keeps the mapping.
    page.get_by_test_id("delete-button").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading")).to_have_text(f"Delete “{renamed}”?")
    dialog.get_by_role("button", name="Cancel").first.click()
    expect(dialog).to_be_hidden()

    page.get_by_test_id("delete-button").click()
    page.get_by_test_id("confirm-delete").click()
    expect(page.get_by_text(f"Deleted the saved mapping “{renamed}”.")).to_be_visible()
    expect(page.get_by_role("link", name=renamed, exact=True)).to_have_count(0)
