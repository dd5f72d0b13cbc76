"""An administrator gives an integration an API token in the browser, the integration uses it,
the admin sees its last use and revokes it; the API reference page reads without a script."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request

import pytest

from tests.browser.conftest import LiveServer
from tests.browser.playwright_api import Page, expect
from tests.browser.test_sign_in import sign_in
from tests.factories import unique_email

pytestmark = pytest.mark.browser


def call_api(live_server: LiveServer, token: str, path: str) -> int:
    request = urllib.request.Request(
        f"{live_server.url}/api/v1{path}", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            json.load(response)
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_an_admin_creates_uses_and_revokes_a_token(page: Page, live_server: LiveServer) -> None:
    admin = live_server.create_user("admin", email=unique_email("ada"), full_name="Ada Admin")
    sign_in(page, admin.email)

    navigation = page.get_by_role("navigation", name="Main")
    navigation.get_by_text("Administration").click()  # the menu opens
    navigation.get_by_role("link", name="API tokens").click()
    expect(page.get_by_role("heading", name="API tokens")).to_be_visible()
    expect(page.get_by_text("No API tokens yet.")).to_be_visible()
    page.get_by_role("link", name="New token").click()
    page.get_by_label("Integration").fill("Zendesk")
    page.get_by_role("checkbox", name="intake").check()
    page.get_by_role("checkbox", name="read").check()
    page.get_by_role("button", name="Create token").click()

    expect(page.get_by_role("heading", name="Token for Zendesk")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("shown only this once")
    token = page.get_by_label(re.compile("API token")).input_value()
    assert token.startswith("loop_")

    assert call_api(live_server, token, "/channels") == 200

    page.get_by_role("link", name="Back to the API tokens").click()
    row = page.get_by_role("row", name=re.compile("Zendesk"))
    expect(row).to_contain_text("intake, read")
    expect(row).not_to_contain_text("Never")  # its last use is shown
    expect(page.locator("body")).not_to_contain_text(token)

    row.get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("alert")).to_contain_text("Revoked the token of Zendesk")
    expect(page.get_by_role("row", name=re.compile("Zendesk"))).to_contain_text("Revoked")
    assert call_api(live_server, token, "/channels") == 401


def test_the_api_reference_reads_in_the_browser(page: Page) -> None:
    page.goto("/api")
    expect(page.get_by_role("heading", name=re.compile("Loop QMS API"))).to_be_visible()
    expect(page.get_by_role("heading", name="Complaints", exact=True)).to_be_visible()
    page.get_by_role("link", name="Schemas").click()
    expect(page.locator("#schema-ComplaintIn")).to_be_visible()
