"""Schemathesis against the live app: generated requests for every operation in the OpenAPI
document, sent over HTTP to a real server, must never cause a 5xx and every answer must match
the document (status, content type, headers, body schema). Bounded and derandomized, so it is
quick and repeatable."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance
from werkzeug.serving import make_server

from app.api.openapi import openapi_document
from app.extensions import db

# Loaded from the document the app serves (the test below checks that the live server serves this
# very document). Schemathesis' lazy fixture loader does not work with pytest 9.
schema = schemathesis.openapi.from_dict(openapi_document())


@pytest.fixture(scope="module")
def live_api(databases) -> Iterator[dict[str, Any]]:
    """A migrated app served over HTTP on 127.0.0.1, with a token of every scope and one record
    of each kind for the generated requests to find."""
    from app.api.tokens import create_token
    from app.capa import services as capa_services
    from app.complaints import services as complaint_services
    from app.nonconformities import services as nc_services
    from tests.factories import create_user

    app = databases.new_migrated_app(API_RATE_LIMIT="100000 per minute")
    with app.app_context():
        lead = create_user("quality_lead")
        complaint = complaint_services.record_complaint(
            user=lead, title="Seed complaint", channel="phone", severity="low"
        )
        nc = nc_services.raise_nonconformity(
            title="Seed nonconformity",
            source="customer_complaint",
            detected_at=datetime.now(UTC),
            severity=3,
            occurrence=3,
            detection=3,
            owner_id=lead.id,
            complaint_ids=[complaint.id],
            user=lead,
        )
        capa_services.plan_capa(
            kind="corrective",
            recovery_dimension="process",
            title="Seed CAPA",
            owner_id=lead.id,
            due_date=capa_services.today_utc() + timedelta(days=30),
            principle_ids=[1],
            nonconformity_ids=[nc.id],
            user=lead,
        )
        from app.metrics import measured

        measured.create_metric(
            key="web_visits",
            label="Web visits",
            category="marketing",
            unit="count",
            better="higher",
        )
        _, secret = create_token(name="schemathesis", scopes="read,intake,write,metrics")
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="api-live-server", daemon=True)
    thread.start()
    try:
        yield {"url": f"http://127.0.0.1:{server.server_port}", "token": secret}
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.session.remove()
            app.extensions["loop_db"].engine.dispose()


def test_the_live_server_serves_the_document_under_test(live_api: dict[str, Any]) -> None:
    import json
    from urllib.request import urlopen

    with urlopen(f"{live_api['url']}/api/v1/openapi.json", timeout=10) as response:
        assert json.load(response) == json.loads(json.dumps(openapi_document()))


@schema.parametrize()
@settings(
    # LOOP_SCHEMATHESIS_EXAMPLES=300 for a deeper run by hand.
    max_examples=int(os.environ.get("LOOP_SCHEMATHESIS_EXAMPLES", "25")),
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_generated_requests_get_documented_answers(case: Any, live_api: dict[str, Any]) -> None:
    # Every default check (no 5xx, status, content type, headers and body as documented,
    # schema-invalid requests rejected, auth enforced) except "schema-valid data is accepted":
    # business rules rightly refuse some schema-valid requests with a documented 422 (a
    # transition the status does not allow, a refund without an amount, a received_at in the
    # future, a cursor this API never handed out).
    case.call_and_validate(
        base_url=f"{live_api['url']}/api/v1",
        headers={"Authorization": f"Bearer {live_api['token']}"},
        excluded_checks=[positive_data_acceptance],
    )
