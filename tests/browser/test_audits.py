"""A quality lead plans an internal audit, answers its checklist, raises a nonconformity from a
finding and downloads the audit report, in the browser as a person does it."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from app.audits import library as audit_library
from app.audits import services as audit_services
from app.core.db import utcnow
from app.extensions import db
from app.organisation.models import Process
from tests.audits.factories import clause
from tests.browser.conftest import LiveServer
from tests.browser.playwright_api import Page, expect
from tests.browser.test_sign_in import sign_in
from tests.conftest import DatabaseFactory
from tests.factories import unique_email
from tests.reports.conftest import read_pdf

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live_server(databases: DatabaseFactory) -> Iterator[LiveServer]:
    """A live server with a database of its own: the nonconformity this journey raises must not
    show up in other browser tests' registers and counts (they share the session's server)."""
    app = databases.new_migrated_app(WTF_CSRF_ENABLED=True)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="audit-server", daemon=True)
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


def test_a_quality_lead_runs_an_audit_from_plan_to_report(
    page: Page, live_server: LiveServer, tmp_path: Path
) -> None:
    today = utcnow().date()
    lead = live_server.create_user(
        "quality_lead", email=unique_email("quinn"), full_name="Quinn Browser"
    )
    with live_server.app.app_context():
        if audit_services.get_programme(today.year) is None:
            audit_services.create_programme(today.year)
        db.session.add(Process(name="Browser billing"))
        audit_library.create_template(
            "Browser checklist",
            questions=[
                ("Are invoices checked before sending?", clause("8.5").id),
                ("Are billing errors measured?", clause("9.1").id),
            ],
        )
        db.session.commit()

    sign_in(page, lead.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audits").click()
    expect(
        page.get_by_role("heading", name=f"Internal audit programme {today.year}")
    ).to_be_visible()
    page.get_by_role("link", name="Plan an audit").click()
    page.get_by_label("Title").fill("Browser billing audit")
    page.get_by_label("Planned start").fill(today.isoformat())
    page.get_by_label("Planned end").fill(today.isoformat())
    page.get_by_label("Lead auditor").select_option(str(lead.id))
    page.get_by_label("Processes in scope").select_option(label="Browser billing")
    page.get_by_role("button", name="Plan audit").click()
    expect(page.get_by_text("Planned the audit AUD-")).to_be_visible()
    reference = re.search(r"AUD-\d{4}-\d{6}", page.url).group(0)

    page.get_by_label("Checklist template").select_option(label="Browser checklist")
    page.get_by_role("button", name="Add checklist").click()
    expect(page.get_by_text("Added 2 checklist questions.")).to_be_visible()
    page.get_by_role("button", name="Start preparation").click()
    page.get_by_role("button", name="Start the audit").click()
    expect(page.get_by_test_id("status")).to_have_text("In progress")

    page.get_by_label("Answer to question 1").select_option("nonconforming")
    page.get_by_label("Evidence for question 1").fill("2 of 8 invoices sent unchecked")
    page.get_by_role("button", name="Save answer").first.click()
    expect(page.get_by_text("Recorded the answer to question 1.")).to_be_visible()
    page.get_by_label("Answer to question 2").select_option("conforming")
    page.get_by_role("button", name="Save answer").nth(1).click()
    expect(page.get_by_text("Recorded the answer to question 2.")).to_be_visible()

    page.get_by_label("Kind").select_option("major")
    page.get_by_label("Description").fill("Invoices leave without the four-eyes check")
    page.get_by_role("button", name="Record finding").click()
    expect(page.get_by_text(f"Recorded the finding {reference}/F1.")).to_be_visible()
    page.get_by_role("button", name="Raise nonconformity").click()
    expect(page.get_by_text("Raised the nonconformity NC-")).to_be_visible()
    nc_reference = re.search(r"NC-\d{4}-\d{6}", page.url).group(0)
    expect(page.get_by_test_id("audit-finding")).to_have_text(f"{reference}/F1")

    page.get_by_test_id("audit-finding").click()
    expect(page.get_by_test_id("follow-up")).to_contain_text(nc_reference)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Audit report (PDF)").click()
    download = download_info.value
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    pdf = read_pdf(saved.read_bytes())
    assert f"Internal audit report {reference}" in pdf.flat
    assert "2 of 8 invoices sent unchecked" in pdf.flat
    assert f"{reference}/F1: Major nonconformity" in pdf.flat
    assert nc_reference in pdf.flat
    assert "8.5 Production and service provision" in pdf.flat
