"""The complaint endpoints: intake, duplicates, idempotent retries, reading back, the list with
its filters and cursor, transitions, recovery actions and satisfaction. Every response is
checked against the OpenAPI document."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.api.models import ApiToken, IdempotencyRecord
from app.api.tokens import create_token, revoke_token
from app.complaints import services as complaint_services
from app.complaints.models import Complaint
from app.core.audit import AuditAction, AuditEvent
from app.extensions import db
from app.nonconformities import services as nc_services
from app.organisation import services as organisation
from tests.factories import create_user

NEW = {
    "title": "Router delivered without power cable",
    "channel": "email",
    "severity": "high",
    "description": "Customer cannot start the router.",
    "source_system": "zendesk",
    "external_id": "ZD-1001",
}


def create(client, auth, conforms, body=None, **headers):
    response = client.post("/api/v1/complaints", json=body or NEW, headers={**auth, **headers})
    return response, conforms(response, "POST", "/api/v1/complaints")


def test_a_help_desk_pushes_a_complaint_and_it_is_recorded_as_received(
    client, auth, conforms, committed
) -> None:
    response, body = create(client, auth, conforms)

    assert response.status_code == 201
    assert body["status"] == "received"
    assert body["title"] == NEW["title"]
    assert body["source_system"] == "zendesk" and body["external_id"] == "ZD-1001"
    assert body["reference"].startswith("CMP-")
    assert response.headers["Location"] == f"/api/v1/complaints/{body['reference']}"
    assert body["links"]["html"] == f"/complaints/{body['reference']}"
    stored = committed(
        lambda: db.session.scalar(select(Complaint).where(Complaint.reference == body["reference"]))
    )
    assert stored.reporter_id is None and stored.channel == "email"


def test_the_integration_is_the_actor_in_the_audit_trail(client, auth, conforms, committed):
    _, body = create(client, auth, conforms)

    def creation_actor() -> str:
        complaint = db.session.scalar(
            select(Complaint).where(Complaint.reference == body["reference"])
        )
        event = db.session.scalar(
            select(AuditEvent).where(
                AuditEvent.record_type == "complaint",
                AuditEvent.record_id == str(complaint.id),
                AuditEvent.action == AuditAction.CREATE,
            )
        )
        return event.actor

    assert committed(creation_actor) == "api:helpdesk"


def test_the_same_ticket_is_never_taken_in_twice(client, auth, conforms, count) -> None:
    _, body = create(client, auth, conforms)
    again, problem = create(client, auth, conforms, {**NEW, "title": "Sent again"})

    assert again.status_code == 409
    assert problem["title"] == "Duplicate complaint"
    assert problem["reference"] == body["reference"]
    assert again.headers["Location"] == f"/api/v1/complaints/{body['reference']}"
    assert count(Complaint) == 1


def test_the_same_external_id_from_another_system_is_another_complaint(
    client, auth, conforms, count
) -> None:
    create(client, auth, conforms)
    response, _ = create(client, auth, conforms, {**NEW, "source_system": "freshdesk"})
    assert response.status_code == 201
    assert count(Complaint) == 2


def test_an_external_id_needs_its_source_system(client, auth, conforms) -> None:
    body = {key: value for key, value in NEW.items() if key != "source_system"}
    response, problem = create(client, auth, conforms, body)
    assert response.status_code == 422
    assert problem["errors"] == [
        {
            "field": "source_system",
            "message": "Name the source system of the external id, such as zendesk.",
        }
    ]


def test_a_retry_with_the_same_idempotency_key_returns_the_first_answer(
    client, auth, conforms, count
) -> None:
    body = {key: value for key, value in NEW.items() if key not in ("external_id",)}
    first, created = create(client, auth, conforms, body, **{"Idempotency-Key": "retry-1"})
    retry, replayed = create(client, auth, conforms, body, **{"Idempotency-Key": "retry-1"})

    assert first.status_code == retry.status_code == 201
    assert replayed == created
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.headers["Location"] == first.headers["Location"]
    assert count(Complaint) == 1
    assert count(IdempotencyRecord) == 1


def test_the_same_key_with_another_body_is_refused(client, auth, conforms, count) -> None:
    create(client, auth, conforms, **{"Idempotency-Key": "k-2"})
    response, problem = create(
        client, auth, conforms, {**NEW, "external_id": "ZD-2"}, **{"Idempotency-Key": "k-2"}
    )
    assert response.status_code == 422
    assert problem["title"] == "Idempotency-Key reused"
    assert count(Complaint) == 1


def test_idempotency_keys_belong_to_one_token(client, make_token, conforms, count) -> None:
    body = {key: value for key, value in NEW.items() if key != "external_id"}
    one, two = make_token("intake"), make_token("intake")
    create(client, one, conforms, body, **{"Idempotency-Key": "shared"})
    response, _ = create(client, two, conforms, body, **{"Idempotency-Key": "shared"})
    assert response.status_code == 201
    assert count(Complaint) == 2


def test_a_refused_request_is_not_remembered_and_may_be_retried(
    client, auth, conforms, count
) -> None:
    bad = {**NEW, "received_at": (datetime.now(UTC) + timedelta(days=2)).isoformat()}
    refused, _ = create(client, auth, conforms, bad, **{"Idempotency-Key": "k-3"})
    assert refused.status_code == 422
    assert count(IdempotencyRecord) == 0


def test_a_malformed_idempotency_key_is_refused(client, auth, conforms) -> None:
    response, problem = create(client, auth, conforms, **{"Idempotency-Key": "x" * 201})
    assert response.status_code == 422
    assert problem["errors"][0]["field"] == "Idempotency-Key"


def test_field_errors_are_listed_in_the_problem(client, auth, conforms) -> None:
    response, problem = create(
        client, auth, conforms, {"title": "", "channel": "pigeon", "severity": "high", "x": 1}
    )
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    fields = {error["field"]: error["message"] for error in problem["errors"]}
    assert set(fields) == {"title", "channel", "x"}
    assert fields["x"] == "Unknown field."


def test_a_received_at_without_a_utc_offset_is_refused(client, auth, conforms) -> None:
    response, problem = create(client, auth, conforms, {**NEW, "received_at": "2026-01-05T10:00"})
    assert response.status_code == 422
    assert problem["errors"][0]["field"] == "received_at"


def test_unknown_customer_external_id_is_refused(client, auth, conforms) -> None:
    response, problem = create(client, auth, conforms, {**NEW, "customer_external_id": "C-404"})
    assert response.status_code == 422
    assert problem["errors"][0]["field"] == "customer_external_id"


def test_a_complaint_links_to_a_customer_by_external_id(client, auth, conforms) -> None:
    client.put(
        "/api/v1/customers/CRM-7",
        json={"name": "Ada Lovelace", "segment": "consumer"},
        headers=auth,
    )
    response, body = create(client, auth, conforms, {**NEW, "customer_external_id": "CRM-7"})
    assert response.status_code == 201
    assert body["customer"]["name"] == "Ada Lovelace"
    assert body["customer"]["external_id"] == "CRM-7"


def test_reading_a_complaint_back(client, auth, conforms) -> None:
    _, created = create(client, auth, conforms)
    path = f"/api/v1/complaints/{created['reference']}"
    response = client.get(path, headers=auth)
    body = conforms(response, "GET", "/api/v1/complaints/{reference}")
    assert response.status_code == 200
    assert body == created

    missing = client.get("/api/v1/complaints/CMP-1999-000001", headers=auth)
    problem = conforms(missing, "GET", "/api/v1/complaints/{reference}")
    assert missing.status_code == 404
    assert problem["detail"] == "There is no complaint CMP-1999-000001."


def list_complaints(client, auth, conforms, query: str = ""):
    response = client.get(f"/api/v1/complaints{query}", headers=auth)
    return response, conforms(response, "GET", "/api/v1/complaints")


def test_the_list_pages_with_a_cursor_newest_first(client, auth, conforms) -> None:
    references = []
    for number in range(5):
        _, body = create(client, auth, conforms, {**NEW, "external_id": f"P-{number}"})
        references.append(body["reference"])

    seen, cursor, pages = [], None, 0
    while True:
        query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        response, page = list_complaints(client, auth, conforms, query)
        assert response.status_code == 200
        seen += [item["reference"] for item in page["data"]]
        for item in page["data"]:  # every row links to its own page, not the first row's
            assert item["links"]["html"] == f"/complaints/{item['reference']}"
            assert item["links"]["self"] == f"/api/v1/complaints/{item['reference']}"
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == list(reversed(references))


def test_the_list_filters(client, auth, conforms) -> None:
    create(client, auth, conforms, {**NEW, "external_id": "F-1", "channel": "phone"})
    _, web = create(client, auth, conforms, {**NEW, "external_id": "F-2", "channel": "web_form"})
    old = (datetime.now(UTC) - timedelta(days=40)).isoformat()
    _, older = create(client, auth, conforms, {**NEW, "external_id": "F-3", "received_at": old})

    def references(query: str) -> list[str]:
        response, page = list_complaints(client, auth, conforms, query)
        assert response.status_code == 200, page
        return [item["reference"] for item in page["data"]]

    assert references("?channel=web_form") == [web["reference"]]
    assert references("?source_system=zendesk&external_id=F-2") == [web["reference"]]
    received_to = (datetime.now(UTC) - timedelta(days=30)).date().isoformat()
    assert references(f"?received_to={received_to}") == [older["reference"]]
    assert len(references("?status=received&status=closed")) == 3
    assert references("?status=closed") == []


def test_a_bad_cursor_or_filter_is_a_field_error(client, auth, conforms) -> None:
    response, problem = list_complaints(client, auth, conforms, "?cursor=not-ours")
    assert response.status_code == 422
    assert problem["errors"][0]["field"] == "cursor"
    response, problem = list_complaints(client, auth, conforms, "?limit=500&status=lost")
    assert response.status_code == 422
    assert {error["field"] for error in problem["errors"]} == {"limit", "status.0"}


def test_a_misspelt_filter_is_refused_not_ignored(client, auth, conforms) -> None:
    response, problem = list_complaints(client, auth, conforms, "?stauts=closed")
    assert response.status_code == 422
    assert problem["errors"] == [{"field": "stauts", "message": "Unknown parameter."}]


def test_each_listed_complaint_reads_as_its_own_page_does(app, client, auth, conforms) -> None:
    """The list reads its rows differently from the single read (plain joined rows, not
    records): every field, the customer, process, category, assignee, recovery actions and
    nonconformities included, must come out the same, whichever filter found the complaint."""
    with app.app_context():
        lead = create_user("quality_lead")
        staff = create_user("contributor", full_name="Ada Staff")
        customer = organisation.create_customer(
            name="Grace Hopper", segment="enterprise", external_id="CRM-9"
        )
        process = organisation.create_process(name="Billing")
        category = organisation.create_category(name="Wrong amount")
        full = complaint_services.record_complaint(
            user=lead,
            title="Charged twice",
            channel="phone",
            severity="high",
            customer_id=customer.id,
            process_id=process.id,
            category_id=category.id,
            assignee_id=staff.id,
            region="Bavaria",
        )
        complaint_services.add_recovery_action(
            full, user=lead, kind="refund", amount="12.50", currency="EUR", done_by_id=staff.id
        )
        complaint_services.add_recovery_action(full, user=lead, kind="apology")
        nc_services.raise_nonconformity(
            title="Double charge",
            source="customer_complaint",
            detected_at=datetime.now(UTC),
            severity=5,
            occurrence=3,
            detection=2,
            owner_id=lead.id,
            complaint_ids=[full.id],
            user=lead,
        )
        bare = complaint_services.record_complaint(
            user=lead, title="Rude agent", channel="email", severity="low"
        )
        db.session.commit()
        references = [full.reference, bare.reference]

    def read(reference: str) -> dict:
        response = client.get(f"/api/v1/complaints/{reference}", headers=auth)
        return conforms(response, "GET", "/api/v1/complaints/{reference}")

    expected = {reference: read(reference) for reference in references}
    assert expected[full.reference]["customer"]["external_id"] == "CRM-9"
    assert [action["done_by"] for action in expected[full.reference]["recovery_actions"]] == [
        "Ada Staff",
        lead.full_name,
    ]
    assert len(expected[full.reference]["nonconformities"]) == 1
    for query in ("", "?customer_external_id=CRM-9", "?q=charged", "?status=received&limit=1"):
        response, page = list_complaints(client, auth, conforms, query)
        assert response.status_code == 200, page
        assert page["data"], query
        for item in page["data"]:
            assert item == expected[item["reference"]], query


def test_listing_does_not_query_per_row(client, auth, conforms, count_queries) -> None:
    for number in range(3):
        create(client, auth, conforms, {**NEW, "external_id": f"Q-{number}"})
    few = count_queries(lambda: client.get("/api/v1/complaints?limit=1", headers=auth))
    many = count_queries(lambda: client.get("/api/v1/complaints?limit=3", headers=auth))
    assert many == few


def transition(client, auth, conforms, reference: str, body: dict):
    path = f"/api/v1/complaints/{reference}/transitions"
    response = client.post(path, json=body, headers=auth)
    return response, conforms(response, "POST", "/api/v1/complaints/{reference}/transitions")


def test_transitions_move_the_complaint_and_stamp_its_times(client, auth, conforms) -> None:
    _, created = create(client, auth, conforms)
    reference = created["reference"]

    response, body = transition(client, auth, conforms, reference, {"name": "acknowledge"})
    assert response.status_code == 200
    assert body["status"] == "acknowledged" and body["first_response_at"] is not None

    response, body = transition(client, auth, conforms, reference, {"name": "resolve"})
    assert body["status"] == "resolved" and body["resolved_at"] is not None

    response, problem = transition(client, auth, conforms, reference, {"name": "acknowledge"})
    assert response.status_code == 422
    assert problem["title"] == "Refused"

    response, problem = transition(client, auth, conforms, reference, {"name": "reopen"})
    assert response.status_code == 422

    response, body = transition(
        client, auth, conforms, reference, {"name": "reopen", "reason": "Cable still missing"}
    )
    assert response.status_code == 200 and body["status"] == "reopened"


def test_recovery_actions_and_satisfaction_read_back(client, auth, conforms) -> None:
    _, created = create(client, auth, conforms)
    reference = created["reference"]
    path = f"/api/v1/complaints/{reference}/recovery-actions"
    template = "/api/v1/complaints/{reference}/recovery-actions"

    refused = client.post(path, json={"kind": "refund"}, headers=auth)
    problem = conforms(refused, "POST", template)
    assert refused.status_code == 422
    assert problem["errors"] == [{"field": "amount", "message": "A refund needs the amount paid."}]

    response = client.post(
        path,
        json={"kind": "refund", "amount": "19.90", "currency": "EUR", "description": "Cable"},
        headers=auth,
    )
    action = conforms(response, "POST", template)
    assert response.status_code == 201
    assert action["amount"] == "19.90" and action["currency"] == "EUR"

    satisfaction = f"/api/v1/complaints/{reference}/satisfaction"
    early = client.post(satisfaction, json={"score": 4}, headers=auth)
    assert conforms(early, "POST", "/api/v1/complaints/{reference}/satisfaction")["status"] == 422

    transition(client, auth, conforms, reference, {"name": "resolve"})
    response = client.post(satisfaction, json={"score": 4, "comment": "Quick"}, headers=auth)
    body = conforms(response, "POST", "/api/v1/complaints/{reference}/satisfaction")
    assert response.status_code == 200
    assert body["satisfaction"]["score"] == 4

    read = client.get(f"/api/v1/complaints/{reference}", headers=auth)
    body = conforms(read, "GET", "/api/v1/complaints/{reference}")
    assert body["status"] == "resolved"
    assert [item["kind"] for item in body["recovery_actions"]] == ["refund"]
    assert body["satisfaction"] == {
        "score": 4,
        "comment": "Quick",
        "recorded_at": body["satisfaction"]["recorded_at"],
    }


def test_a_satisfaction_score_outside_1_to_5_is_a_field_error(client, auth, conforms) -> None:
    _, created = create(client, auth, conforms)
    response = client.post(
        f"/api/v1/complaints/{created['reference']}/satisfaction", json={"score": 9}, headers=auth
    )
    problem = conforms(response, "POST", "/api/v1/complaints/{reference}/satisfaction")
    assert response.status_code == 422
    assert problem["errors"][0]["field"] == "score"


def test_actions_on_a_missing_complaint_are_404(client, auth, conforms) -> None:
    response = client.post(
        "/api/v1/complaints/CMP-1999-000009/transitions", json={"name": "close"}, headers=auth
    )
    assert conforms(response, "POST", "/api/v1/complaints/{reference}/transitions")
    assert response.status_code == 404


def test_a_duplicate_that_slips_past_the_check_is_a_conflict_not_a_500(
    client, auth, conforms, count, monkeypatch
) -> None:
    # Two pushes of one ticket at the same moment: both pass the lookup, the unique constraint
    # on (source_system, external_id) stops the second.
    from app.complaints import services

    create(client, auth, conforms)
    monkeypatch.setattr(services, "find_by_source", lambda system, ident: None)
    response, problem = create(client, auth, conforms)
    assert response.status_code == 409
    assert problem["title"] == "Conflict"
    assert count(Complaint) == 1


def test_operations_without_parameters_refuse_unknown_ones(client, auth, conforms) -> None:
    response = client.get("/api/v1/channels?all=1", headers=auth)
    problem = conforms(response, "GET", "/api/v1/channels")
    assert response.status_code == 422
    assert problem["errors"] == [{"field": "all", "message": "Unknown parameter."}]


def test_an_idempotency_key_is_forgotten_after_a_day(
    client, auth, conforms, committed, count
) -> None:
    body = {key: value for key, value in NEW.items() if key != "external_id"}
    create(client, auth, conforms, body, **{"Idempotency-Key": "old-key"})

    def age_the_record() -> None:
        record = db.session.scalar(select(IdempotencyRecord))
        record.created_at = datetime.now(UTC) - timedelta(hours=25)

    committed(age_the_record)
    response, _ = create(client, auth, conforms, body, **{"Idempotency-Key": "old-key"})
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response.headers
    assert count(Complaint) == 2
    assert count(IdempotencyRecord) == 1


def test_dates_at_the_edges_of_the_calendar_are_field_errors_not_crashes(
    client, auth, conforms
) -> None:
    # Year 1 with a +01:00 offset is before the first day Python knows in UTC; the day after
    # 9999-12-31 does not exist. Both are refused as typing mistakes.
    response, problem = create(
        client, auth, conforms, {**NEW, "received_at": "0001-01-01T00:00:00+01:00"}
    )
    assert response.status_code == 422
    assert problem["errors"] == [
        {
            "field": "received_at",
            "message": "Give a date between the years 1900 and 9000.",
        }
    ]
    for query in ("?received_to=9999-12-31", "?updated_since=0001-01-01T00:00:00%2B01:00"):
        response, problem = list_complaints(client, auth, conforms, query)
        assert response.status_code == 422


def test_stored_answers_expire_for_every_token_and_go_with_a_revoked_token(
    client, make_token, conforms, committed, count
) -> None:
    idle, busy, leaving = make_token(name="idle"), make_token(name="busy"), make_token(name="gone")
    create(client, idle, conforms, **{"Idempotency-Key": "idle-1"})
    create(client, leaving, conforms, {**NEW, "external_id": "ZD-9"}, **{"Idempotency-Key": "g-1"})

    def age_the_idle_tokens_answer() -> None:
        stored = db.session.scalar(
            select(IdempotencyRecord).where(IdempotencyRecord.key == "idle-1")
        )
        stored.created_at = datetime.now(UTC) - timedelta(hours=25)

    committed(age_the_idle_tokens_answer)
    # Another token's request clears the idle token's expired answer; the recent one stays.
    create(client, busy, conforms, {**NEW, "external_id": "ZD-8"}, **{"Idempotency-Key": "b-1"})
    keys = committed(lambda: set(db.session.scalars(select(IdempotencyRecord.key))))
    assert keys == {"g-1", "b-1"}

    def revoke_the_leaving_token() -> None:
        token = db.session.scalar(select(ApiToken).where(ApiToken.name == "gone"))
        revoke_token(token)

    committed(revoke_the_leaving_token)
    assert committed(lambda: set(db.session.scalars(select(IdempotencyRecord.key)))) == {"b-1"}
    assert count(Complaint) == 3  # only the stored answers went


def test_the_same_key_sent_at_once_from_several_connections_creates_one_complaint(
    databases,
) -> None:
    """A client that times out and retries may send the same request twice at the same moment:
    one complaint, and every answer is the first answer or a 409 that says to retry."""
    import threading

    from sqlalchemy import func

    app = databases.new_migrated_app()
    with app.app_context():
        _, secret = create_token(name="twice", scopes="intake")
        db.session.commit()
    headers = {"Authorization": f"Bearer {secret}", "Idempotency-Key": "at-once-1"}
    senders = 4
    start = threading.Barrier(senders)
    answers: list[tuple[int, dict]] = []
    lock = threading.Lock()

    def send() -> None:
        client = app.test_client()
        start.wait(timeout=10)
        response = client.post("/api/v1/complaints", json=NEW, headers=headers)
        with lock:
            answers.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=send) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(answers) == senders
    created = [body for status, body in answers if status == 201]
    assert created, answers
    assert {body["reference"] for body in created} == {created[0]["reference"]}
    assert all(status in (201, 409) for status, _ in answers), answers
    for status, body in answers:
        if status == 409:  # lost a race (PostgreSQL): told to send it again
            assert re.search(r"\b(retry|send this one again)\b", body["detail"]), body
    # Sending it again, as the 409 says, gives the first answer.
    retry = app.test_client().post("/api/v1/complaints", json=NEW, headers=headers)
    assert retry.status_code == 201 and retry.headers["Idempotent-Replayed"] == "true"
    assert retry.get_json()["reference"] == created[0]["reference"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Complaint)) == 1
        db.session.remove()
        app.extensions["loop_db"].engine.dispose()


def test_source_outcomes_go_in_and_come_back_and_unknown_stays_null(client, auth, conforms) -> None:
    with_outcomes = {
        **NEW,
        "external_id": "ZD-OUT-1",
        "timely_response": False,
        "disputed": True,
        "public_response": "Company believes it acted appropriately as authorized by contract",
        "region": "TX",
    }
    response, body = create(client, auth, conforms, with_outcomes)
    assert response.status_code == 201, body
    assert (body["timely_response"], body["disputed"], body["region"]) == (False, True, "TX")
    assert body["public_response"].startswith("Company believes")
    read = client.get(f"/api/v1/complaints/{body['reference']}", headers=auth)
    again = conforms(read, "GET", "/api/v1/complaints/{reference}")
    assert (again["timely_response"], again["disputed"]) == (False, True)

    response, plain = create(client, auth, conforms, {**NEW, "external_id": "ZD-OUT-2"})
    assert (plain["timely_response"], plain["disputed"], plain["public_response"]) == (
        None,
        None,
        None,
    )

    bad = client.post(
        "/api/v1/complaints",
        json={**NEW, "external_id": "ZD-OUT-3", "timely_response": "Maybe"},
        headers=auth,
    )
    assert bad.status_code == 422
    assert "timely_response" in bad.get_data(as_text=True)


def test_imported_tags_and_company_response_come_back(client, auth, conforms, committed) -> None:
    """Real consumer-finance rows (tests/data/cfpb_tags_sample.csv) imported with the shipped
    mapping: the source's tags and company response are complaint fields of the API too."""
    import json
    from pathlib import Path

    from app.intake import services as intake

    repo = Path(__file__).resolve().parents[2]
    sample = repo / "tests" / "data" / "cfpb_tags_sample.csv"
    mapping = json.loads((repo / "docs" / "mappings" / "cfpb.json").read_text(encoding="utf-8"))

    def run() -> str:
        job = intake.create_job(sample.name, sample.read_bytes(), user=None)
        intake.set_mapping(job, mapping, user=None)
        intake.start_job(job, "skip_bad_rows", user=None)
        intake.run_to_end(job)
        assert job.imported_count == 2
        return db.session.scalar(
            select(Complaint.reference).where(Complaint.external_id == "3298636")
        )

    reference = committed(run)
    body = conforms(
        client.get(f"/api/v1/complaints/{reference}", headers=auth),
        "GET",
        "/api/v1/complaints/{reference}",
    )
    assert (body["tags"], body["company_response"]) == ("Servicemember", "Closed with explanation")
    listed = client.get("/api/v1/complaints?source_system=cfpb&external_id=3298806", headers=auth)
    (item,) = listed.get_json()["data"]
    assert (item["tags"], item["company_response"]) == (None, "In progress")
