"""The API meets the record lock a page meets: a closed complaint takes no recovery action or
satisfaction score until it is reopened with a reason."""

from __future__ import annotations


def test_the_api_meets_the_same_lock(client, auth, conforms) -> None:
    created = client.post(
        "/api/v1/complaints",
        json={"title": "Router dead", "channel": "email", "severity": "high"},
        headers=auth,
    )
    reference = created.get_json()["reference"]
    transitions = f"/api/v1/complaints/{reference}/transitions"
    for name in ("resolve", "close"):
        assert client.post(transitions, json={"name": name}, headers=auth).status_code == 200
    template = "/api/v1/complaints/{reference}/recovery-actions"
    refused = client.post(
        f"/api/v1/complaints/{reference}/recovery-actions",
        json={"kind": "apology", "description": "Sorry"},
        headers=auth,
    )
    problem = conforms(refused, "POST", template)
    assert refused.status_code == 422
    assert "is closed and read-only; reopen it (with a reason)" in problem["detail"]
    refused = client.post(
        f"/api/v1/complaints/{reference}/satisfaction", json={"score": 5}, headers=auth
    )
    assert refused.status_code == 422
    reopened = client.post(
        transitions, json={"name": "reopen", "reason": "Still dead"}, headers=auth
    )
    assert reopened.status_code == 200
    accepted = client.post(
        f"/api/v1/complaints/{reference}/recovery-actions",
        json={"kind": "apology", "description": "Sorry"},
        headers=auth,
    )
    assert accepted.status_code == 201
