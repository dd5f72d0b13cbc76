"""A big register is made in the background: the page shows it running, then offers the file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.extensions import db
from tests.browser.conftest import LiveServer
from tests.browser.playwright_api import Page, expect
from tests.browser.test_sign_in import sign_in
from tests.factories import unique_email
from tests.reports.conftest import read_pdf
from tests.reports.test_register_and_extract import many_nonconformities

pytestmark = pytest.mark.browser


def test_an_auditor_waits_for_a_big_register_and_downloads_it(
    page: Page, live_server: LiveServer, tmp_path: Path
) -> None:
    live_server.app.config["REPORT_SYNC_MAX_ROWS"] = 3
    try:
        with live_server.app.app_context():
            references = many_nonconformities(6, title="Courier missed the slot")
            db.session.commit()
        auditor = live_server.create_user("auditor", email=unique_email("bg"))
        sign_in(page, auditor.email)
        page.goto("/reports")
        page.get_by_role("button", name="Download the register").click()

        expect(
            page.get_by_role("heading", name=re.compile("Nonconformity register"))
        ).to_be_visible()
        expect(page.get_by_test_id("task-result")).to_contain_text(
            "is ready", timeout=60_000
        )  # tasks.js polled the status and reloaded the page when the runner finished
        expect(page.get_by_test_id("task-progress-bar")).to_have_text("100 %")
        with page.expect_download() as download_info:
            page.get_by_test_id("task-download").click()
        saved = tmp_path / download_info.value.suggested_filename
        download_info.value.save_as(saved)
        pdf = read_pdf(saved.read_bytes())
        assert sorted(re.findall(r"NC-\d{4}-\d{6}", pdf.flat)) == sorted(references)

        page.goto("/tasks")
        expect(page.get_by_test_id("task-row")).to_have_count(1)
    finally:
        live_server.app.config["REPORT_SYNC_MAX_ROWS"] = 200
