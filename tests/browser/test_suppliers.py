"""A quality lead sends a SCAR; the supplier opens the link from the e-mail they received (real
SMTP), answers in 8D form without an account, and the quality lead accepts the answer, which
becomes a corrective CAPA on the nonconformity."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from werkzeug.serving import make_server

from app.core.db import utcnow
from app.extensions import db
from app.nonconformities import services as nc_services
from app.suppliers import services as supplier_services
from tests.browser.conftest import LiveServer, browsing
from tests.browser.playwright_api import Page, expect
from tests.browser.test_sign_in import sign_in
from tests.conftest import DatabaseFactory
from tests.factories import unique_email
from tests.scheduler.smtp import smtp_server
from tests.suppliers.helpers import LINK

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def mail_and_server(databases: DatabaseFactory) -> Iterator[tuple[LiveServer, object]]:
    """A live server of its own, sending its e-mail to a real SMTP test server."""
    with smtp_server() as (inbox, port):
        app = databases.new_migrated_app(
            WTF_CSRF_ENABLED=True, MAIL_SERVER="127.0.0.1", MAIL_PORT=port
        )
        server = make_server("127.0.0.1", 0, app, threaded=True)
        app.config["LOOP_BASE_URL"] = f"http://127.0.0.1:{server.server_port}"
        thread = threading.Thread(target=server.serve_forever, name="scar-server", daemon=True)
        thread.start()
        try:
            yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app), inbox
        finally:
            server.shutdown()
            thread.join(timeout=10)
            server.server_close()
            with app.app_context():
                db.session.remove()
                app.extensions["loop_db"].engine.dispose()


@pytest.fixture()
def live_server(mail_and_server) -> LiveServer:
    return mail_and_server[0]


def test_a_supplier_answers_a_scar_from_the_e_mail_and_the_lead_accepts_it(
    browser, page: Page, mail_and_server
) -> None:
    server, inbox = mail_and_server
    lead = server.create_user("quality_lead", email=unique_email("quinn"), full_name="Quinn Lead")
    with server.app.app_context():
        user = db.session.merge(lead)
        supplier = supplier_services.create_supplier(
            name="Brightline Packaging",
            contact_name="Sam",
            contact_email="qa@brightline.example",
            user=user,
        )
        nc = nc_services.raise_nonconformity(
            title="Crushed cartons on order 991",
            source="supplier",
            detected_at=utcnow() - timedelta(hours=2),
            severity=6,
            occurrence=3,
            detection=4,
            owner_id=user.id,
            user=user,
        )
        supplier_services.attribute(supplier, "nonconformity", nc.reference, user=user)
        db.session.commit()
        nc_reference = nc.reference

    sign_in(page, lead.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Suppliers").click()
    page.get_by_role("link", name="Brightline Packaging").click()
    page.get_by_role("link", name="New SCAR").click()
    page.get_by_label("Nonconformity").select_option(nc_reference)
    page.get_by_label("The problem, as the supplier will read it").fill(
        "Cartons of order 991 arrived crushed."
    )
    page.get_by_label("Answer due").fill((utcnow().date() + timedelta(days=10)).isoformat())
    page.get_by_role("button", name="Send the SCAR").click()
    expect(page.get_by_text("The supplier has been e-mailed a response link.")).to_be_visible()
    expect(page.get_by_test_id("scar-status")).to_have_text("Awaiting response")
    scar_url = page.url

    [mail] = [m for m in inbox.messages if m.recipients == ["qa@brightline.example"]]
    link = LINK.search(mail.message.get_payload(decode=True).decode()).group(0)

    with browsing(browser, server.url) as supplier_page:
        supplier_page.goto(link)
        expect(
            supplier_page.get_by_role("heading", name="Corrective action request SCAR-")
        ).to_be_visible()
        expect(supplier_page.get_by_test_id("problem")).to_have_text(
            "Cartons of order 991 arrived crushed."
        )
        expect(supplier_page.get_by_text("Crushed cartons on order 991")).to_have_count(0)
        supplier_page.get_by_label("Your name").fill("Sam Supplier")
        supplier_page.get_by_label("Containment").fill("Order 991 replaced, stock sorted.")
        supplier_page.get_by_label("Root cause").fill("Pallets stacked four high in transit.")
        supplier_page.get_by_label("Corrective action").fill("Stacking limit of two on labels.")
        supplier_page.get_by_label("Verification").fill("Ten shipments checked: no damage.")
        supplier_page.get_by_role("button", name="Send the answer").click()
        expect(supplier_page.get_by_test_id("thanks")).to_be_visible()
        supplier_page.goto(link)
        expect(supplier_page.get_by_test_id("refusal")).to_contain_text("already been used")

    page.goto(scar_url)
    expect(page.get_by_test_id("scar-status")).to_have_text("Answered")
    expect(page.get_by_test_id("supplier-answer")).to_contain_text(
        "Pallets stacked four high in transit."
    )
    page.get_by_label("Decision").select_option("accept")
    page.get_by_label("CAPA due").fill((utcnow().date() + timedelta(days=30)).isoformat())
    page.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_text("its corrective action is CAPA-")).to_be_visible()
    expect(page.get_by_test_id("scar-status")).to_have_text("Accepted")
    page.get_by_test_id("scar-capa").click()
    expect(page.get_by_test_id("root-causes")).to_contain_text(
        "Brightline Packaging: Pallets stacked four high in transit."
    )
    accepted = [m for m in inbox.messages if m.recipients == ["qa@brightline.example"]][-1]
    assert accepted.message["Subject"].endswith("answer accepted")
