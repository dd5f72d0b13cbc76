"""The audit history in the PDFs reads as the record pages do (app.core.audit_display): labels and
names, not `owner_id: 2`; columns never run together; no Python dict; the 8D names analyses by
their title, draws the fishbone and says what D8 recognises. Read back with pypdf."""

from __future__ import annotations

import re

from app.core.db import utcnow
from app.extensions import db
from app.nonconformities import services as nc_services
from app.rca import services as rca_services
from tests.reports.conftest import read_pdf


def test_the_capa_report_audit_history_shows_labels_and_keeps_columns_apart(client, login, story):
    login("auditor")
    pdf = read_pdf(client.get(f"/reports/capa/{story.capa}.pdf").data)
    flat = pdf.flat
    history = flat[flat.index("Audit history of the CAPA") :]
    assert f"· {story.capa} · Created · by " in history
    assert f"Owner: {story.lead_name}" in history
    assert "TQM principles: added " in history and "Process-centered" in history
    assert "Status: Effective → Closed" in history
    assert "Training: Spotting duplicate refunds" in history  # the training's record, by name
    for raw in ("owner_id", "owner id", "capa_id", "follow_up_of_id"):
        assert raw not in history
    # A record reference is never glued to the first field of its changes.
    assert not re.search(rf"{story.capa}[a-z]", history)
    assert not re.search(r"\d{2}:\d{2}:\d{2}\.\d{6}", history)


def test_the_period_extract_prints_filters_as_text_and_keeps_actor_and_action_apart(
    app, client, login, story
):
    auditor = login("auditor", email="auditor@loop.example")
    # An earlier export with filters, as the CAPA list's CSV writes it (a dict in the event).
    assert client.get("/capa/export.csv?sort=-due_date&status=planned").status_code == 200
    today = utcnow().date().isoformat()
    pdf = read_pdf(client.get(f"/reports/audit-trail.pdf?date_from={today}&date_to={today}").data)
    flat = pdf.flat
    assert "{'" not in flat and '{"' not in flat
    assert "Filters: sort: -due_date; status: planned" in flat
    assert f"{auditor.email}export" not in flat
    assert f"Exported · by {auditor.email}" in flat


def test_the_8d_report_names_analyses_draws_the_fishbone_and_fills_d8(
    app, client, login, story, committed
):
    def add_ishikawa() -> None:
        nc = nc_services.get_by_reference(story.nc)
        # The story's nonconformity is closed: an Ishikawa analysis is added as history would
        # have it (its rows directly, the trail captures them all the same).
        from app.rca.models import AnalysisMethod, IshikawaCause, RootCauseAnalysis

        analysis = RootCauseAnalysis(
            nonconformity=nc, method=AnalysisMethod.ISHIKAWA, problem_statement="Why twice?"
        )
        analysis.ishikawa_causes.append(
            IshikawaCause(category="method", cause="No duplicate check in the refund tool")
        )
        db.session.add(analysis)
        db.session.flush()
        assert rca_services.ishikawa_groups(analysis)["method"]

    committed(add_ishikawa)
    login("quality_lead")
    response = client.get(f"/reports/nonconformities/{story.nc}/8d.pdf")
    assert response.status_code == 200
    pdf = read_pdf(response.data)
    flat = pdf.flat
    assert "Ishikawa analysis: “Why twice?”" in flat
    assert not re.search(r"analysis \d+\b", flat)  # never "5 Whys analysis 13"
    # The fishbone is drawn (vector text of its bones and head), beside the list of causes.
    assert "Method" in flat and "Why twice?" in flat
    d4_to_d5 = flat[flat.index("D4 · ") : flat.index("D5 · ")]
    assert d4_to_d5.count("No duplicate check in the refund tool") >= 2  # drawn and listed
    d8 = flat[flat.index("D8 · ") :]
    assert "The refund desk was thanked at the monthly quality meeting" in d8
    assert f"Team recognised {story.lead_name}" in d8
    assert "Outcome 1 of 1 action(s) verified effective" in d8
