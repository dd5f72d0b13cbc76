"""axe-core finds no serious or critical accessibility problem on the main pages: the dashboard,
every list, every record page (finished and just begun), the forms and the audit log."""

from __future__ import annotations

import pytest

from tests.browser.axe import axe_source, serious_violations
from tests.browser.playwright_api import Page
from tests.browser.site_map import SiteMap
from tests.browser.test_sign_in import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def axe() -> str:
    return axe_source()


def check(page: Page, axe: str, paths: list[str]) -> None:
    found: list[str] = []
    for path in paths:
        response = page.goto(path)
        assert response is not None and response.status == 200, (path, response and response.status)
        found.extend(serious_violations(page, axe))
    assert not found, "axe-core found:\n" + "\n".join(found)


def test_the_dashboard_and_lists_have_no_serious_findings(
    site_page: Page, site: SiteMap, axe: str
) -> None:
    sign_in(site_page, site.lead_email)
    check(site_page, axe, site.lists)


def test_the_record_pages_and_forms_have_no_serious_findings(
    site_page: Page, site: SiteMap, axe: str
) -> None:
    sign_in(site_page, site.lead_email)
    check(site_page, axe, site.records + site.forms)


def test_the_admin_and_audit_pages_and_sign_in_have_no_serious_findings(
    site_page: Page, site: SiteMap, axe: str
) -> None:
    check(site_page, axe, ["/login"])
    sign_in(site_page, site.admin_email)
    check(site_page, axe, site.admin_pages + site.audit_pages)


def test_keyboard_focus_is_visible_on_every_control_it_reaches(
    site_page: Page, site: SiteMap
) -> None:
    sign_in(site_page, site.lead_email)
    site_page.goto("/complaints")
    seen = set()
    for _ in range(12):
        site_page.keyboard.press("Tab")
        tag, outline_style, outline_width = site_page.evaluate(
            "() => { const e = document.activeElement, s = getComputedStyle(e);"
            " return [e.tagName + ' ' + (e.textContent || e.name || '').trim().slice(0, 30),"
            " s.outlineStyle, parseFloat(s.outlineWidth)]; }"
        )
        assert outline_style != "none" and outline_width >= 2, (tag, outline_style, outline_width)
        seen.add(tag)
    assert len(seen) >= 10  # the walk moved through the navigation and the filters
