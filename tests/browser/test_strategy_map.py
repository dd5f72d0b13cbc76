"""A quality lead walks to the strategy map, follows an objective down to the complaint its CAPA
answers, links one more CAPA to the initiative and downloads the map as PDF."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.extensions import db
from tests.browser.conftest import LiveServer
from tests.browser.playwright_api import Page, expect
from tests.browser.test_sign_in import sign_in
from tests.factories import unique_email
from tests.reports.conftest import read_pdf
from tests.strategy.story import build_line

pytestmark = pytest.mark.browser


def test_a_quality_lead_follows_an_objective_to_the_recovered_complaint(
    page: Page, live_server: LiveServer, tmp_path: Path
) -> None:
    lead = live_server.create_user("quality_lead", email=unique_email("sasha"))
    title = f"Increase customer retention and loyalty ({lead.email})"
    with live_server.app.app_context():
        line = build_line(db.session.merge(lead), title=title)
        db.session.commit()
    sign_in(page, lead.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Strategy").click()
    expect(page.get_by_role("heading", name="Service-recovery strategy")).to_be_visible()
    page.get_by_role("link", name="4. Strategy map").click()
    expect(page.get_by_role("heading", name="Strategy map", exact=True)).to_be_visible()

    objective = page.get_by_role("region", name=title)
    expect(objective.get_by_role("heading", name=title, exact=True)).to_be_visible()
    expect(objective.get_by_test_id("objective-figures")).to_contain_text(
        "CAPAs effective 0 of 1 · document changes 0 · complaints answered 1"
    )
    capa = objective.get_by_test_id(f"capa-{line.capa}")
    expect(capa.get_by_test_id(f"complaint-{line.complaint}")).to_contain_text(
        "Charged twice for one order"
    )
    expect(objective.get_by_test_id("goal-status")).to_have_count(1)
    expect(objective.get_by_text(line.unlinked_complaint)).to_have_count(0)

    # Link the second CAPA: its complaint joins the bottom of the line.
    initiative = objective.get_by_test_id(f"initiative-{line.initiative_id}")
    initiative.get_by_label("CAPA that serves this initiative").fill(line.unlinked_capa)
    initiative.get_by_role("button", name="Link").click()
    expect(page.get_by_text(f"{line.unlinked_capa} now serves")).to_be_visible()
    objective = page.get_by_role("region", name=title)
    expect(objective.get_by_test_id(f"complaint-{line.unlinked_complaint}")).to_be_visible()
    expect(objective.get_by_test_id("objective-figures")).to_contain_text("complaints answered 2")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download PDF").click()
    download = download_info.value
    assert re.fullmatch(
        r"strategy-map-[\d-]+-RPT-\d{8}-\d{6}-[0-9A-F]{6}\.pdf", download.suggested_filename
    )
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    pdf = read_pdf(saved.read_bytes())
    assert "Strategy map" in pdf.flat
    assert line.complaint in pdf.flat and line.unlinked_complaint in pdf.flat
    mapped = next(o for o in pdf.data()["objectives"] if o["title"] == title)
    assert mapped["figures"]["complaints"] == 2
