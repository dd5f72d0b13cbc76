"""The import wizard in a real browser: upload, map, preview, import with progress, result."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import LiveServer
from tests.browser.playwright_api import Page, expect
from tests.browser.test_sign_in import sign_in
from tests.factories import unique_email

pytestmark = pytest.mark.browser

TICKETS = (
    "Ticket,Subject,Opened,Time,Via,State\n"
    "B-1,Late delivery,03-11-25,9:15:00 AM,Internet,Open\n"
    "B-2,Wrong invoice,2025-11-04,2:30:00 PM,Customer Care Call,Solved\n"
    "B-3,Rude agent,31-02-25,10:00:00 AM,Internet,Closed\n"
    "B-4,Parcel damaged,05-11-25,4:45:00 PM,Customer Care Call,Closed\n"
    "B-5,No reply,06-11-25,8:00:00 AM,Internet,Pending\n"
)


def test_an_operator_imports_a_file_through_the_wizard(page: Page, live_server: LiveServer) -> None:
    lead = live_server.create_user("quality_lead", email=unique_email("imp"))
    live_server.app.config["IMPORT_CHUNK_ROWS"] = 2  # several steps, so the bar moves
    try:
        sign_in(page, lead.email)
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Import").click()
        expect(page.get_by_role("heading", name="Import complaints")).to_be_visible()
        page.get_by_label("CSV or XLSX file").set_input_files(
            {"name": "tickets.csv", "mimeType": "text/csv", "buffer": TICKETS.encode()}
        )
        page.get_by_role("button", name="Upload").click()

        expect(page.get_by_role("heading", name="Map the columns of tickets.csv")).to_be_visible()
        page.get_by_label("External id (ticket number)").select_option("Ticket")
        page.get_by_label("Title", exact=True).select_option("Subject")
        page.get_by_label("Received at").select_option("Opened")
        page.get_by_label("Time-of-day column").select_option("Time")
        page.get_by_label("Channel", exact=True).select_option("Via")
        page.get_by_label("Channel values").fill("Internet = web_form\nCustomer Care Call = phone")
        page.get_by_label("Fixed severity").select_option("medium")
        page.get_by_label("Status", exact=True).select_option("State")
        page.get_by_label("Status values").fill(
            "Open = received\nPending = investigating\nSolved = resolved\nClosed = closed"
        )
        page.get_by_label("Source system").fill("browser-desk")
        # The detection offers YY-MM-DD too (03-11-25 reads as 2003-11-25): leave only the two.
        formats = page.locator('input[name="date_formats"]')
        for index in range(formats.count()):
            formats.nth(index).uncheck()
        page.get_by_label(re.compile(r"^DD-MM-YY ")).check()
        page.get_by_label(re.compile(r"^YYYY-MM-DD ")).check()
        page.get_by_role("button", name="Preview").click()

        expect(page.get_by_test_id("preview-summary")).to_contain_text("5 complaints from 5 rows")
        rows = page.get_by_test_id("preview-row")
        expect(rows).to_have_count(5)
        expect(rows.nth(0)).to_contain_text("2025-11-03 09:15")
        expect(rows.nth(1)).to_contain_text("2025-11-04 14:30")
        expect(rows.nth(2)).to_contain_text("Rejected: Received at: “31-02-25” is not a date")

        page.get_by_label("Skip bad rows: import the good ones, list the rest").check()
        page.get_by_role("button", name="Import 5 rows").click()

        expect(page.get_by_test_id("import-result")).to_contain_text(
            "Imported 4 complaints; 0 duplicates skipped; 1 row rejected.", timeout=30_000
        )
        expect(page.get_by_test_id("progress-bar")).to_have_text("100 %")
        rejected = page.get_by_test_id("rejected-row")
        expect(rejected).to_have_count(1)
        expect(rejected.first).to_contain_text("4")
        with page.expect_download() as download:
            page.get_by_test_id("rejected-csv").click()
        assert download.value.suggested_filename.endswith("-rejected-rows.csv")

        page.get_by_role("link", name="Go to the complaints").click()
        expect(page.get_by_text("Parcel damaged")).to_be_visible()
    finally:
        live_server.app.config["IMPORT_CHUNK_ROWS"] = 2_000
