"""A reopen voids a signed record's signatures visibly in its PDFs too: the CAPA report and the
8D print them as void, superseded by the reopen, never as valid."""

from __future__ import annotations

from app.capa import services as capa_services
from app.extensions import db
from app.nonconformities import services as nc_services
from tests.reports.test_record_reports import download


def test_the_pdfs_print_signatures_voided_by_a_reopen(client, login, committed, story) -> None:
    lead = login("quality_lead", full_name="Riley Reopener")

    def reopen() -> None:
        user = db.session.merge(lead)
        nc = nc_services.get_by_reference(story.nc)
        nc_services.transition_nonconformity(nc, "reopen", user, "Customers complained again")
        capa = capa_services.capa_by_reference(story.capa)
        capa_services.transition_capa(capa, "reopen", user, "Check the lock once more")

    committed(reopen)
    capa_pdf = download(client, f"/reports/capa/{story.capa}.pdf").flat
    assert capa_pdf.count("Void — superseded by reopen on") == 2
    assert "by Riley Reopener: Check the lock once more" in capa_pdf
    assert "Unchanged since signing" not in capa_pdf
    eight_d = download(client, f"/reports/nonconformities/{story.nc}/8d.pdf").flat
    assert "by Riley Reopener: Customers complained again" in eight_d
    assert eight_d.count("Void — superseded by reopen on") == 3  # the NC's and the CAPA's two
