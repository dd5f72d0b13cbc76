"""The whole quality loop, as a new quality lead runs it in the browser.

Log a complaint, make the customer whole (an apology and a refund), raise a nonconformity from it,
write a 5 Whys, plan a CAPA mapped to two TQM principles with a training assignment, implement it,
pass the effectiveness check, sign, close the CAPA and the nonconformity, and see the complaint's
page show all three recoveries done.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app.core.db import utcnow
from tests.browser.conftest import LiveServer
from tests.browser.playwright_api import Page, expect
from tests.browser.test_sign_in import sign_in
from tests.factories import TEST_PASSWORD, unique_email

pytestmark = pytest.mark.browser

REFERENCE = {
    "complaint": re.compile(r"/complaints/(CMP-\d{4}-\d{6})$"),
    "nonconformity": re.compile(r"/nonconformities/(NC-\d{4}-\d{6})$"),
    "capa": re.compile(r"/capa/(CAPA-\d{4}-\d{6})$"),
}


def reference_in_url(page: Page, kind: str) -> str:
    expect(page).to_have_url(REFERENCE[kind])
    match = REFERENCE[kind].search(page.url)
    assert match is not None
    return match.group(1)


def section(page: Page, test_id: str):
    return page.get_by_test_id(test_id)


def nc_step(page: Page, label: str) -> None:
    """Fire one step of the nonconformity workflow and wait for the page to show it done."""
    page.get_by_test_id("workflow").get_by_role("button", name=label, exact=True).click()
    expect(
        page.get_by_test_id("workflow").get_by_role("button", name=label, exact=True)
    ).to_have_count(0)


def add_why(page: Page, why: str, because: str) -> None:
    """Append a step to the 5 Whys through the form below the chain."""
    form = page.locator("form", has=page.locator("#new-why"))
    form.get_by_label("Why?").fill(why)
    form.get_by_label("Because…").fill(because)
    form.get_by_role("button", name="Add step").click()


def test_a_quality_lead_runs_the_whole_loop(page: Page, live_server: LiveServer) -> None:
    lead = live_server.create_user(
        "quality_lead", email=unique_email("quinn"), full_name="Quinn Lead"
    )
    reviewer = live_server.create_user(
        "quality_lead", email=unique_email("robin"), full_name="Robin Reviewer"
    )
    sign_in(page, lead.email)

    # 1. Log the complaint.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Complaints").click()
    page.get_by_role("link", name="New complaint").click()
    page.get_by_label("Title").fill("Charged twice for the March invoice")
    page.get_by_label("Channel").select_option(label="Phone")
    page.get_by_label("Severity").select_option(label="High")
    page.get_by_label("Description").fill("The customer sees two debits of 25.00 EUR.")
    page.get_by_role("button", name="Record complaint").click()
    complaint = reference_in_url(page, "complaint")
    expect(page.get_by_test_id("recovery-missing")).to_contain_text(
        "Customer, Process, Employee recovery"
    )

    # 2. Customer recovery: acknowledge, then an apology and a refund.
    page.get_by_test_id("transitions").get_by_role("button", name="Acknowledge").click()
    recovery = section(page, "customer-recovery")
    recovery.get_by_label("Kind").select_option(label="Apology")
    recovery.get_by_label("What was done").fill("Apologised on the phone.")
    recovery.get_by_role("button", name="Record recovery action").click()
    recovery = section(page, "customer-recovery")
    recovery.get_by_text("Add a recovery action").click()
    recovery.get_by_label("Kind").select_option(label="Refund")
    recovery.get_by_label("Amount").fill("25.00")
    recovery.get_by_label("Currency").fill("EUR")
    recovery.get_by_role("button", name="Record recovery action").click()
    expect(section(page, "recovery-actions")).to_contain_text("Apology")
    expect(section(page, "recovery-actions")).to_contain_text("Refund")
    expect(section(page, "recovery-customer")).to_contain_text("apology, refund")

    # 3. Process recovery starts: raise a nonconformity from the complaint.
    page.get_by_test_id("raise-nonconformity").click()
    expect(page.get_by_test_id("raised-from")).to_contain_text(complaint)
    page.get_by_label("Title").fill("Invoice run charged some customers twice")
    page.get_by_label("Containment action").fill("Refund run checked by hand until fixed.")
    page.get_by_label("Severity (1–10)").fill("7")
    page.get_by_label("Occurrence (1–10)").fill("4")
    page.get_by_label("Detection (1–10)").fill("5")
    page.get_by_role("button", name="Raise nonconformity").click()
    nonconformity = reference_in_url(page, "nonconformity")
    expect(page.get_by_test_id("linked-complaints")).to_contain_text(complaint)
    nc_step(page, "Mark contained")
    nc_step(page, "Start investigation")

    # 4. A 5 Whys analysis with a root cause.
    page.get_by_label("Method").select_option(label="5 Whys")
    page.get_by_label("Problem statement").fill("Some customers were charged twice in March.")
    page.get_by_role("button", name="Start analysis").click()
    add_why(page, "Why were they charged twice?", "The invoice run ran twice after a restart.")
    add_why(page, "Why did it run twice?", "Nothing stops a second run for the same period.")
    expect(page.get_by_test_id("why-step")).to_have_count(2)
    expect(
        page.get_by_text("Nothing stops a second run for the same period.").first
    ).to_be_visible()
    page.get_by_label("Root-cause statement").fill("No lock on the invoice run per period")
    page.get_by_label("Cause category").fill("method")
    page.get_by_role("button", name="Add root cause").click()
    expect(page.get_by_text("No lock on the invoice run per period").first).to_be_visible()

    # 5. Plan a CAPA mapped to two principles, with a training assignment.
    page.goto(f"/nonconformities/{nonconformity}")
    page.get_by_test_id("plan-capa").click()
    page.get_by_label("Title").fill("Lock the invoice run per billing period")
    page.get_by_label("Kind").select_option(label="Corrective")
    page.get_by_label("Recovery", exact=True).select_option(value="employee")
    page.get_by_label("Owner").select_option(label="Quinn Lead")
    page.get_by_label("Due date").fill((utcnow() + timedelta(days=30)).date().isoformat())
    page.get_by_label(re.compile(r"^3\. Process-centered")).check()
    page.get_by_label(re.compile(r"^6\. Continual improvement")).check()
    page.get_by_role("button", name="Plan the CAPA").click()
    capa = reference_in_url(page, "capa")
    page.goto(f"/nonconformities/{nonconformity}")
    nc_step(page, "Mark action planned")
    page.goto(f"/capa/{capa}")
    expect(section(page, "principles")).to_contain_text("Process-centered")
    expect(section(page, "principles")).to_contain_text("Continual improvement")

    trainings = page.locator("#trainings")
    trainings.get_by_label("Staff member").select_option(label="Quinn Lead")
    trainings.get_by_label("Topic").fill("Running the invoice batch safely")
    trainings.get_by_label("Due date").fill((utcnow() + timedelta(days=7)).date().isoformat())
    trainings.get_by_role("button", name="Assign").click()
    expect(section(page, "trainings")).to_contain_text("Running the invoice batch safely")

    checks = page.locator("#checks")
    checks.get_by_label("Method").select_option(label="Manual review")
    checks.get_by_label("Criterion").fill("No double charge in the next two invoice runs.")
    checks.get_by_label("Due date").fill((utcnow() + timedelta(days=60)).date().isoformat())
    checks.get_by_role("button", name="Plan the check").click()
    expect(section(page, "checks")).to_contain_text("No double charge")

    # 6. Implement: start, complete the training, implement, verify, pass the check, sign.
    workflow = page.get_by_role("region", name="Workflow")
    workflow.get_by_role("button", name="Start").click()
    section(page, "trainings").get_by_role("button", name="Mark completed").click()
    page.get_by_role("region", name="Workflow").get_by_role("button", name="Implement").click()
    page.get_by_role("region", name="Workflow").get_by_role(
        "button", name=re.compile("verif", re.I)
    ).click()
    check = section(page, "check")
    check.get_by_label("Result").select_option(label="Passed")
    check.get_by_label("Evidence").fill("Two runs in April and May: no double charge.")
    check.get_by_role("button", name="Record the result").click()
    expect(page.locator("#sign-effectiveness")).to_contain_text(
        "A quality lead other than the CAPA owner and its implementer (Quinn Lead) must sign."
    )
    # Separation of duties: Quinn owns and implemented the CAPA, so another quality lead signs.
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, reviewer.email)
    page.goto(f"/capa/{capa}")
    sign = page.locator("#sign-effectiveness")
    sign.get_by_label("Your password").fill(TEST_PASSWORD)
    sign.get_by_label("Meaning of your signature").select_option(label="Verified")
    sign.get_by_role("button", name="Sign").click()
    expect(page.get_by_test_id("signatures")).to_contain_text("Robin Reviewer")
    close = page.locator("#sign-closure")
    close.get_by_label("Your password").fill(TEST_PASSWORD)
    close.get_by_label("Meaning of your signature").select_option(label="Approved")
    close.get_by_role("button", name="Sign").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Closed")

    # 7. Close the nonconformity with a signature.
    page.goto(f"/nonconformities/{nonconformity}")
    expect(page.get_by_test_id("linked-capas")).to_contain_text(capa)
    nc_step(page, "Start verification")
    close = page.get_by_test_id("close-panel")
    close.get_by_label("Your password").fill(TEST_PASSWORD)
    close.get_by_label("Meaning of your signature").select_option(label="Approved")
    close.get_by_role("button", name="Close and sign").click()
    expect(page.get_by_test_id("read-only")).to_contain_text("closed and read-only")
    expect(page.get_by_test_id("edit")).to_have_count(0)

    # 8. The complaint's page shows all three recoveries.
    page.goto(f"/complaints/{complaint}")
    expect(section(page, "recovery-customer")).to_contain_text("apology, refund")
    expect(section(page, "recovery-process")).to_contain_text("1 CAPA verified effective.")
    expect(section(page, "recovery-employee")).to_contain_text("1 training completed.")
    expect(page.get_by_test_id("recovery-missing")).to_have_count(0)
    process = section(page, "process-recovery")
    expect(process).to_contain_text(nonconformity)
    expect(process).to_contain_text("No lock on the invoice run per period")
    expect(process).to_contain_text(capa)
    expect(process).to_contain_text("Verified effective")
    expect(process.get_by_test_id("trace-principle")).to_have_text(
        ["Process-centered", "Continual improvement"]
    )
    expect(section(page, "trace-trainings")).to_contain_text("Running the invoice batch safely")

    # 9. Every step is in the audit trail, and the chain verifies.
    page.goto(f"/capa/{capa}")
    history = page.get_by_test_id("record-history")
    expect(history).to_contain_text("Sign")
    page.goto("/audit/verify")
    expect(page.get_by_test_id("verify-result")).to_contain_text("Intact.")
