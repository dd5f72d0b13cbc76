"""Attachments in the browser: two files uploaded at once with the progress bar, one downloaded."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.complaints import services as complaint_services
from app.extensions import db
from tests.browser.conftest import LiveServer
from tests.browser.playwright_api import Page, expect
from tests.browser.test_sign_in import sign_in
from tests.factories import unique_email

pytestmark = pytest.mark.browser

PHOTO = b"\x89PNG\r\n\x1a\n" + os.urandom(3 * 1024 * 1024)
NOTES = b"Customer called at 09:12; parcel left outside in the rain.\n"

# Keeps what the progress bar showed, across the reload after the upload (sessionStorage).
WATCH_PROGRESS = """() => {
  const bar = document.querySelector('[data-testid="upload-progress-bar"]');
  const meter = bar.parentElement;
  sessionStorage.setItem("seen", "[]");
  new MutationObserver(() => {
    const seen = JSON.parse(sessionStorage.getItem("seen"));
    seen.push((meter.classList.contains("d-none") ? "hidden " : "shown ") + bar.textContent);
    sessionStorage.setItem("seen", JSON.stringify(seen));
  }).observe(bar, { childList: true, characterData: true, subtree: true });
}"""


def test_upload_two_files_with_progress_and_download_one(
    page: Page, live_server: LiveServer, tmp_path: Path
) -> None:
    lead = live_server.create_user("quality_lead", email=unique_email("ari"), full_name="Ari Lead")
    with live_server.app.app_context():
        complaint = complaint_services.record_complaint(
            user=db.session.merge(lead),
            title="Parcel left in the rain",
            channel="phone",
            severity="medium",
        )
        db.session.commit()
        reference = complaint.reference
    sign_in(page, lead.email)
    page.goto(f"/complaints/{reference}")
    panel = page.get_by_test_id("attachments")
    expect(panel.get_by_text("No files attached.")).to_be_visible()
    page.evaluate(WATCH_PROGRESS)
    panel.get_by_label("Attach files").set_input_files(
        [
            {"name": "label-photo.png", "mimeType": "image/png", "buffer": PHOTO},
            {"name": "call notes.txt", "mimeType": "text/plain", "buffer": NOTES},
        ]
    )
    panel.get_by_role("button", name="Upload").click()

    expect(page.get_by_role("alert").filter(has_text="Attached “label-photo.png”")).to_be_visible()
    expect(page).to_have_url(f"{live_server.url}/complaints/{reference}#attachments")
    rows = page.get_by_test_id("attachment-list").locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("label-photo.png")
    expect(rows.nth(0)).to_contain_text("image/png")
    expect(rows.nth(1)).to_contain_text("call notes.txt")
    seen = page.evaluate("() => JSON.parse(sessionStorage.getItem('seen'))")
    assert "shown 100 %" in seen, seen

    with page.expect_download() as info:
        page.get_by_role("link", name="call notes.txt").click()
    download = info.value
    assert download.suggested_filename == "call notes.txt"
    saved = tmp_path / "notes.txt"
    download.save_as(saved)
    assert saved.read_bytes() == NOTES


def test_a_refused_file_is_named_on_the_page_without_reload(
    page: Page, live_server: LiveServer
) -> None:
    lead = live_server.create_user("quality_lead", email=unique_email("bo"), full_name="Bo Lead")
    with live_server.app.app_context():
        complaint = complaint_services.record_complaint(
            user=db.session.merge(lead), title="Wrong invoice", channel="email", severity="low"
        )
        db.session.commit()
        reference = complaint.reference
    sign_in(page, lead.email)
    page.goto(f"/complaints/{reference}")
    panel = page.get_by_test_id("attachments")
    panel.get_by_label("Attach files").set_input_files(
        [
            {
                "name": "invoice.pdf",
                "mimeType": "application/pdf",
                "buffer": b"MZ\x90\x00" + bytes(400),
            }
        ]
    )
    panel.get_by_role("button", name="Upload").click()
    expect(panel.get_by_text("“invoice.pdf” is a program")).to_be_visible()
    expect(panel.get_by_text("No files attached.")).to_be_visible()
