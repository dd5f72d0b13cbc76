"""Page faults a new user met (issue 18, item 7): the navigation marks the page one is on and
links the API reference, the escalation select shows the level the complaint is at, and the two
signature forms ask for their fields in the same order."""

from __future__ import annotations

import re

from app.complaints import services as complaint_services
from app.extensions import db


def current_links(html: str) -> list[str]:
    nav = html[html.index('aria-label="Main"') : html.index("</nav>")]
    return re.findall(r'aria-current="page"[^>]*>([^<]+)<', nav)


def test_the_financial_case_is_marked_in_the_navigation_not_the_dashboard(client, login):
    login("quality_lead")
    assert current_links(client.get("/financial-case").get_data(as_text=True)) == ["Financial case"]
    assert current_links(client.get("/").get_data(as_text=True)) == ["Dashboard"]


def test_the_navigation_links_the_api_reference(client, login):
    login("contributor")
    html = client.get("/").get_data(as_text=True)
    assert 'href="/api" data-testid="api-reference-link">API reference</a>' in html
    assert current_links(client.get("/api").get_data(as_text=True)) == ["API reference"]


def test_the_escalation_select_shows_the_level_the_complaint_is_at(client, login, committed):
    lead = login("quality_lead")

    def new(level: int) -> str:
        complaint = complaint_services.record_complaint(
            user=db.session.merge(lead), title="Slow refund", channel="email", severity="low"
        )
        if level:
            complaint_services.escalate_complaint(
                complaint, level, user=db.session.merge(lead), reason="Customer called again"
            )
        return complaint.reference

    for level, label in ((0, "0 — not escalated"), (2, "2")):
        reference = committed(new, level)
        html = client.get(f"/complaints/{reference}").get_data(as_text=True)
        select = html[html.index('name="escalation-level"') :]
        select = select[: select.index("</select>")]
        selected = re.findall(r'<option selected value="(\d)">([^<]*)<', select)
        assert selected == [(str(level), label)], selected


def sign_field_order(html: str, action: str) -> list[str]:
    form = html[html.index(f'action="{action}"') :]
    form = form[: form.index("</form>")]
    return [
        name.split("-")[-1]
        for name in re.findall(r'name="([\w-]+)"', form)
        if name.split("-")[-1] in ("meaning", "password")
    ]


def test_both_signature_forms_ask_meaning_then_password(client, login, committed):
    from tests.core.test_separation_of_duties import verifying, verifying_nc
    from tests.factories import other_lead

    lead = login("quality_lead")

    def build() -> tuple[str, str]:
        owner = other_lead(db.session.merge(lead))
        return (
            verifying(owner, owner).reference,
            verifying_nc(owner, owner).reference,
        )

    capa, nc = committed(build)
    capa_html = client.get(f"/capa/{capa}").get_data(as_text=True)
    nc_html = client.get(f"/nonconformities/{nc}").get_data(as_text=True)
    capa_order = sign_field_order(capa_html, f"/capa/{capa}/verify-effectiveness")
    nc_order = sign_field_order(nc_html, f"/nonconformities/{nc}/close")
    assert capa_order == nc_order == ["meaning", "password"]
