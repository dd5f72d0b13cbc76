"""Signing in, being refused a page, a wrong password and signing out, as a person does them."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import LiveServer
from tests.browser.playwright_api import Page, expect
from tests.factories import TEST_PASSWORD, unique_email

pytestmark = pytest.mark.browser

GENERIC_ERROR = "The e-mail or password is not right"
SIGN_IN_URL = re.compile(r"/login(\?.*)?$")


def type_credentials(page: Page, email: str, password: str) -> None:
    """Click into each field and type, key by key, the way a person fills the form."""
    page.get_by_label("E-mail").click()
    page.get_by_label("E-mail").press_sequentially(email)
    page.get_by_label("Password").click()
    page.get_by_label("Password").press_sequentially(password)
    page.get_by_role("button", name="Sign in").click()


def sign_in(page: Page, email: str, password: str = TEST_PASSWORD) -> None:
    page.goto("/login")
    type_credentials(page, email, password)
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def test_a_new_contributor_signs_in_and_is_refused_the_user_admin(
    page: Page, live_server: LiveServer
) -> None:
    user = live_server.create_user(
        "contributor", email=unique_email("robin"), full_name="Robin Frontline"
    )

    page.goto("/")
    expect(page).to_have_url(SIGN_IN_URL)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_text("Please sign in to open that page.")

    type_credentials(page, user.email, TEST_PASSWORD)

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    navigation = page.get_by_role("navigation", name="Main")
    expect(navigation.get_by_test_id("signed-in-as")).to_have_text(
        re.compile(r"Robin Frontline\s*·\s*Contributor")
    )
    expect(navigation.get_by_role("link", name="Dashboard")).to_be_visible()
    # The navigation offers only what a contributor may open.
    expect(navigation.get_by_role("link", name="Users")).to_have_count(0)
    expect(navigation.get_by_role("link", name="Audit trail")).to_have_count(0)

    response = page.goto("/admin/users")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="You may not open this page")).to_be_visible()
    expect(page.get_by_text("ask an administrator")).to_be_visible()
    expect(page.get_by_role("table")).to_have_count(0)  # no list of users leaks through
    page.get_by_role("link", name="Back to the start page").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def test_a_wrong_password_shows_the_one_generic_message(
    page: Page, live_server: LiveServer
) -> None:
    user = live_server.create_user("contributor", full_name="Sam Typo")

    page.goto("/login")
    type_credentials(page, user.email, "not the password at all")

    expect(page).to_have_url(SIGN_IN_URL)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_test_id("login-error")).to_contain_text(GENERIC_ERROR)
    expect(page.get_by_role("alert")).to_have_count(1)
    # The e-mail stays so the person can correct the password; the password is never echoed back.
    expect(page.get_by_label("E-mail")).to_have_value(user.email)
    expect(page.get_by_label("Password")).to_have_value("")
    expect(page.get_by_text("Sam Typo")).to_have_count(0)

    # An unknown address gets exactly the same words.
    page.get_by_label("E-mail").fill("")
    type_credentials(page, "nobody-here@example.com", "not the password at all")
    expect(page.get_by_test_id("login-error")).to_contain_text(GENERIC_ERROR)


def test_signing_out_returns_to_the_sign_in_page(page: Page, live_server: LiveServer) -> None:
    user = live_server.create_user("auditor", full_name="Alex Auditor")
    sign_in(page, user.email)
    expect(page.get_by_test_id("signed-in-as")).to_contain_text("Alex Auditor")

    page.get_by_role("button", name="Sign out").click()

    expect(page).to_have_url(SIGN_IN_URL)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_text("You are signed out.")
    expect(page.get_by_test_id("signed-in-as")).to_have_count(0)
    # The session is really gone: the dashboard asks for sign-in again.
    page.goto("/")
    expect(page).to_have_url(SIGN_IN_URL)


def test_an_administrators_navigation_fits_a_laptop_screen(
    page: Page, live_server: LiveServer
) -> None:
    admin = live_server.create_user("admin", email=unique_email("ada"))
    page.set_viewport_size({"width": 1280, "height": 720})
    sign_in(page, admin.email)
    navigation = page.get_by_role("navigation", name="Main")
    # Every section is there, and nothing pushes the page wider than the window.
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    expect(navigation.get_by_role("button", name="Sign out")).to_be_in_viewport()
    expect(navigation.get_by_role("link", name="Users")).to_be_hidden()
    navigation.get_by_text("Administration").click()
    for name in ("Scheduler", "Users", "API tokens"):
        expect(navigation.get_by_role("link", name=name)).to_be_visible()
    navigation.get_by_role("link", name="Users").click()
    expect(page.get_by_role("heading", name="Users")).to_be_visible()
    menu = navigation.get_by_text("Administration")
    expect(menu).to_have_attribute("class", re.compile("active"))  # the section you are in
