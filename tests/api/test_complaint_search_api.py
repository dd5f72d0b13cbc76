"""The API's complaint list searches with `q`, like the list page (see tests/complaints)."""

from __future__ import annotations

from tests.complaints.factories import new_complaint
from tests.factories import create_user


def test_the_api_lists_complaints_matching_q(client, auth, conforms, committed):
    lead = committed(create_user, "quality_lead")
    committed(new_complaint, lead, title="Seat broken", description="Row 12, the recliner 💺")
    committed(new_complaint, lead, title="Meal cold")
    response = client.get("/api/v1/complaints?q=recliner", headers=auth)
    body = conforms(response, "GET", "/api/v1/complaints")
    assert [item["title"] for item in body["data"]] == ["Seat broken"]
    for bad in ('"', "NEAR(", "", "💺"):
        response = client.get("/api/v1/complaints", query_string={"q": bad}, headers=auth)
        assert response.status_code == 200, bad
    assert client.get("/api/v1/complaints?q=" + "a" * 201, headers=auth).status_code == 422
