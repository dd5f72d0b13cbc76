"""A quality lead maintains a process FMEA in the browser: starts it, meets the 1–10 scale error,
adds the failure mode, sees the RPN, the action priority and the complaints that contradict a low
occurrence rating, raises a preventive CAPA from the row and approves the revision by signature."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from werkzeug.serving import make_server

from app.complaints.models import Channel, Complaint, Severity
from app.core.db import utcnow
from app.core.references import next_reference
from app.extensions import db
from app.organisation.models import Category, Process
from tests.browser.conftest import LiveServer
from tests.browser.playwright_api import Page, expect
from tests.browser.test_sign_in import sign_in
from tests.conftest import TEST_PASSWORD, DatabaseFactory
from tests.factories import unique_email

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live_server(databases: DatabaseFactory) -> Iterator[LiveServer]:
    """A server with a database of its own, so this journey's records stay out of other tests."""
    app = databases.new_migrated_app(WTF_CSRF_ENABLED=True)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="fmea-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.session.remove()
            app.extensions["loop_db"].engine.dispose()


def test_a_quality_lead_builds_and_approves_an_fmea(page: Page, live_server: LiveServer) -> None:
    lead = live_server.create_user(
        "quality_lead", email=unique_email("fmea"), full_name="Fran Facilitator"
    )
    with live_server.app.app_context():
        process = Process(name="Browser refunds")
        category = Category(name="Browser double refund")
        db.session.add_all([process, category])
        db.session.flush()
        now = utcnow()
        for days in (2, 20, 60):
            db.session.add(
                Complaint(
                    reference=next_reference(db.session, "CMP", now.year),
                    title="Refunded twice",
                    received_at=now - timedelta(days=days),
                    channel=Channel.EMAIL,
                    severity=Severity.MEDIUM,
                    process_id=process.id,
                    category_id=category.id,
                )
            )
        db.session.commit()

    sign_in(page, lead.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="FMEA").click()
    page.get_by_role("link", name="Start an FMEA").click()
    page.get_by_label("Title").fill("Refunds PFMEA")
    page.get_by_label("Process", exact=True).select_option(label="Browser refunds")
    page.get_by_role("button", name="Start the FMEA").click()
    expect(page.get_by_text("Add its failure modes")).to_be_visible()

    page.get_by_role("link", name="Add a failure mode").click()
    page.get_by_label("Failure mode").fill("Refund paid twice")
    page.get_by_label("Severity (S)").fill("11")
    page.get_by_label("Occurrence (O)").fill("2")
    page.get_by_label("Detection (D)").fill("7")
    page.get_by_label("Recommended action").fill("Block a second refund of the same order")
    page.get_by_label("Failure categories").select_option(label="Browser double refund")
    page.get_by_role("button", name="Save the row").click()
    expect(page.get_by_text("Severity must be a whole number from 1 to 10.")).to_be_visible()
    page.get_by_label("Severity (S)").fill("8")
    page.get_by_role("button", name="Save the row").click()

    worksheet = page.get_by_test_id("worksheet")
    expect(worksheet.get_by_test_id("rpn")).to_have_text("112")
    expect(worksheet.get_by_test_id("ap")).to_contain_text("M")
    expect(worksheet.get_by_test_id("seen")).to_contain_text("C 3 · N 0")
    expect(worksheet.get_by_test_id("occurrence-flag")).to_contain_text("contradicts O2")

    worksheet.get_by_role("link", name="Preventive CAPA").click()
    page.get_by_label("Owner").select_option(str(lead.id))
    page.get_by_label("Due").fill((utcnow().date() + timedelta(days=30)).isoformat())
    page.get_by_label("TQM principles").select_option(label="Continual improvement")
    page.get_by_role("button", name="Plan the preventive CAPA").click()
    expect(page.get_by_text("Planned the preventive CAPA")).to_be_visible()
    expect(page.get_by_test_id("worksheet").get_by_role("link", name="CAPA-")).to_be_visible()

    form = page.get_by_test_id("approve-form")
    form.get_by_label("What changed in this revision").fill("First issue")
    form.get_by_label("Your password").fill(TEST_PASSWORD)
    form.get_by_role("button", name="Approve and sign").click()
    expect(page.get_by_test_id("revision")).to_contain_text("rev 2 (working copy)")
    expect(page.get_by_test_id("signatures")).to_contain_text("Fran Facilitator — Approved")
    page.get_by_role("link", name="rev 1").click()
    expect(page.get_by_test_id("revision-rows")).to_contain_text("Refund paid twice")
