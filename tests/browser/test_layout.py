"""Every page at a laptop's 1,280 × 800 and a phone's 390 × 844: the main content never makes the
page scroll sideways (wide tables scroll inside their own box), and dates stay on one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.playwright_api import Page, expect
from tests.browser.site_map import SiteMap
from tests.browser.test_sign_in import sign_in

pytestmark = pytest.mark.browser

LAYOUT_PROBLEMS = (Path(__file__).parent / "layout_problems.js").read_text(encoding="utf-8")


SIZES = {"laptop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


def walk(page: Page, paths: list[str]) -> list[str]:
    """Load each page once and check it at every size: the layout is CSS alone (no script reads
    the width), so resizing a loaded page lays it out as loading it at that size would."""
    found = []
    for path in paths:
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        for name, size in SIZES.items():
            page.set_viewport_size(size)
            found.extend(f"{path} ({name}): {p}" for p in page.evaluate(LAYOUT_PROBLEMS))
    return found


def test_no_page_overflows_sideways_on_a_laptop_or_a_phone(site_page: Page, site: SiteMap) -> None:
    found = walk(site_page, ["/login"])
    sign_in(site_page, site.lead_email)
    found += walk(site_page, site.lists + site.records + site.forms + site.audit_pages)
    site_page.context.clear_cookies()
    sign_in(site_page, site.admin_email)
    found += walk(site_page, site.admin_pages)
    assert not found, "layout problems:\n" + "\n".join(found)


def test_the_next_step_is_on_the_first_screen_of_a_phone(site_page: Page, site: SiteMap) -> None:
    site_page.set_viewport_size({"width": 390, "height": 844})
    sign_in(site_page, site.lead_email)
    for path in site.open_records.values():
        site_page.goto(path)
        step = site_page.get_by_test_id("next-step")
        box = step.bounding_box()
        assert box is not None and box["y"] + box["height"] <= 844, (path, box)
    # On the new complaint, the next step is one press: acknowledging it.
    site_page.goto(site.open_records["complaint"])
    site_page.get_by_test_id("next-step-button").click()
    expect(site_page.get_by_test_id("reference")).to_contain_text("Acknowledged")
