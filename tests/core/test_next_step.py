"""Each record page opens with the next step of its workflow, above the record, so it is never
below the fold: a button for the first step open now, or a pointer to the workflow panel."""

from __future__ import annotations

from tests.capa.factories import make_nonconformity, plan
from tests.complaints.factories import new_complaint
from tests.organisation.pages import page_text


def next_step_first(page: str) -> str:
    """The next-step bar's text, after checking it comes before the record's first panel."""
    start = page.index('data-testid="next-step"')
    assert start < page.index('<section class="card'), "the next step is below the record"
    block = page[start : page.index("</section>", start)]
    return block


def test_a_new_complaint_opens_with_acknowledge(client, login, committed) -> None:
    lead = login("quality_lead")
    reference = committed(lambda: new_complaint(lead).reference)
    block = next_step_first(page_text(client.get(f"/complaints/{reference}")))
    assert 'data-testid="next-step-button">Acknowledge</button>' in block
    assert 'name="transition" value="acknowledge"' in block
    response = client.post(
        f"/complaints/{reference}/transition", data={"transition": "acknowledge"}
    )
    assert response.status_code == 302
    after = page_text(client.get(f"/complaints/{reference}"))
    assert "Acknowledged" in after and ">Acknowledge</button>" not in next_step_first(after)


def test_a_nonconformity_and_a_capa_open_with_their_next_step(client, login, committed) -> None:
    lead = login("quality_lead")

    def create() -> tuple[str, str]:
        nc = make_nonconformity()
        return nc.reference, plan(lead, nonconformity_ids=[nc.id]).reference

    nc, capa = committed(create)
    nc_block = next_step_first(page_text(client.get(f"/nonconformities/{nc}")))
    assert 'data-testid="next-step' in nc_block and 'href="#workflow-heading"' in nc_block
    capa_block = next_step_first(page_text(client.get(f"/capa/{capa}")))
    assert 'data-testid="next-step-button">Start work</button>' in capa_block
    assert 'value="mark_ineffective"' not in capa_block


def test_a_reader_gets_no_next_step(client, login, committed, make_user) -> None:
    lead = make_user("quality_lead")
    reference = committed(lambda: new_complaint(lead).reference)
    login("auditor")
    assert 'data-testid="next-step"' not in page_text(client.get(f"/complaints/{reference}"))
