"""The customer field on complaint forms: a searchable picker among hundreds of customers, worked
with the keyboard alone, and the plain select it enhances when JavaScript is off."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.complaints.models import Complaint
from app.extensions import db
from app.organisation.models import Customer, CustomerSegment
from tests.browser.conftest import TIMEOUT_MS, LiveServer
from tests.browser.playwright_api import Page, expect
from tests.browser.test_sign_in import sign_in
from tests.factories import unique_email

pytestmark = pytest.mark.browser


@pytest.fixture()
def customers(live_server: LiveServer) -> dict[str, int]:
    """Three hundred customers, among them one Zephyr; returns the named ones' ids."""
    marker = unique_email("batch").split("@")[0]
    with live_server.app.app_context():
        rows = [
            Customer(name=f"Customer {marker} {n:03d}", segment=CustomerSegment.CONSUMER)
            for n in range(300)
        ]
        zephyr = Customer(
            name=f"Zephyr Logistics {marker}",
            segment=CustomerSegment.ENTERPRISE,
            external_id=f"CRM-{marker}",
        )
        db.session.add_all([*rows, zephyr])
        db.session.commit()
        return {"zephyr": zephyr.id, "marker": marker}  # type: ignore[dict-item]


def customer_of(live_server: LiveServer, reference: str) -> int | None:
    with live_server.app.app_context():
        complaint = db.session.scalar(select(Complaint).where(Complaint.reference == reference))
        return complaint.customer_id if complaint else None


def fill_the_rest(page: Page) -> None:
    page.get_by_label("Title").fill("Parcel never arrived")
    page.get_by_label("Channel").select_option(label="Phone")
    page.get_by_label("Severity").select_option(label="High")
    # Received long ago: the dashboard tests sharing this server count the recent complaints.
    page.get_by_label("Received at (UTC)").fill("2024-01-15T09:30")


def test_the_picker_searches_and_is_worked_by_keyboard(
    page: Page, live_server: LiveServer, customers
) -> None:
    lead = live_server.create_user("quality_lead", email=unique_email("kim"), full_name="Kim Lead")
    sign_in(page, lead.email)
    page.goto("/complaints/new")
    picker = page.get_by_role("combobox", name="Customer")
    expect(picker).to_be_visible()
    expect(page.locator("select[name=customer_id]")).to_be_hidden()

    picker.focus()
    page.keyboard.type("zephyr")
    listbox = page.get_by_role("listbox", name="Customer")
    expect(listbox.get_by_role("option")).to_have_count(1, timeout=TIMEOUT_MS)
    expect(listbox.get_by_role("option")).to_have_text(re.compile("^Zephyr Logistics"))
    page.keyboard.press("ArrowDown")
    expect(picker).to_have_attribute("aria-activedescendant", re.compile("option-0$"))
    page.keyboard.press("Enter")  # chooses; does not send the form
    expect(listbox).to_be_hidden()
    expect(picker).to_have_value(re.compile("^Zephyr Logistics"))
    expect(page).to_have_url(re.compile("/complaints/new$"))

    # A search by external id finds it too; Escape closes the list and keeps the choice.
    picker.fill("")
    page.keyboard.type(f"crm-{customers['marker']}")
    expect(listbox.get_by_role("option")).to_have_count(1)
    page.keyboard.press("Escape")
    expect(listbox).to_be_hidden()

    fill_the_rest(page)
    page.get_by_role("button", name="Record complaint").click()
    expect(page).to_have_url(re.compile(r"/complaints/CMP-\d{4}-\d{6}$"))
    reference = page.url.rsplit("/", 1)[1]
    assert customer_of(live_server, reference) == customers["zephyr"]


def test_a_broad_search_lists_at_most_twenty_and_says_there_are_more(
    page: Page, live_server: LiveServer, customers
) -> None:
    lead = live_server.create_user("quality_lead", email=unique_email("kim"))
    sign_in(page, lead.email)
    page.goto("/complaints/new")
    picker = page.get_by_role("combobox", name="Customer")
    picker.fill(f"customer {customers['marker']}")
    expect(page.get_by_role("listbox", name="Customer").get_by_role("option")).to_have_count(20)
    expect(page.get_by_role("status").filter(has_text="customers found")).to_have_text(
        "20+ customers found; use the arrow keys to choose."
    )


def test_without_javascript_the_plain_select_still_works(
    browser, live_server: LiveServer, customers
) -> None:
    lead = live_server.create_user("quality_lead", email=unique_email("kim"))
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        sign_in(page, lead.email)
        page.goto("/complaints/new")
        expect(page.get_by_role("combobox", name="Customer")).to_have_count(1)  # the select
        select = page.locator("select[name=customer_id]")
        expect(select).to_be_visible()
        select.select_option(value=str(customers["zephyr"]))
        fill_the_rest(page)
        page.get_by_role("button", name="Record complaint").click()
        expect(page).to_have_url(re.compile(r"/complaints/CMP-\d{4}-\d{6}$"))
        assert customer_of(live_server, page.url.rsplit("/", 1)[1]) == customers["zephyr"]
    finally:
        context.close()
