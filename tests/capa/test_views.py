"""The CAPA pages: planning, the CAPA page and its forms, editing, signing, permissions."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import select

from app.accounts.models import User
from app.capa import effectiveness as capa_effectiveness
from app.capa import services
from app.capa import training as capa_training
from app.capa.models import Capa, CapaStatus, CheckResult, EffectivenessCheck, TrainingAssignment
from app.core.signatures import Signature
from app.extensions import db
from tests import factories as users
from tests.capa.factories import (
    advance,
    make_complaint,
    make_nonconformity,
    make_root_cause,
    pending_check,
    plan,
)
from tests.conftest import TEST_PASSWORD

TODAY = services.today_utc()
SOON = (TODAY + timedelta(days=14)).isoformat()


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def get_user(user_id: int) -> User:
    return db.session.get(User, user_id)


def get_capa(reference: str) -> Capa:
    return db.session.scalar(select(Capa).where(Capa.reference == reference))


@pytest.fixture()
def make_capa(committed):
    """make_capa(owner, status=..., lead=None, **plan_values) → the committed CAPA's reference."""

    def make(owner: User, status: CapaStatus = CapaStatus.PLANNED, lead=None, **values) -> str:
        def build() -> str:
            walker = get_user(lead.id) if lead else users.create_user("quality_lead")
            capa = plan(get_user(owner.id), **values)
            advance(capa, status, walker)
            return capa.reference

        return committed(build)

    return make


@pytest.fixture()
def fresh(committed):
    """A fresh copy of the CAPA with this reference, read in its own session."""

    def read(reference: str) -> Capa:
        return committed(get_capa, reference)

    return read


def new_form(owner: User, **changes) -> dict[str, object]:
    form: dict[str, object] = {
        "title": "Add a duplicate-payment check",
        "kind": "corrective",
        "recovery_dimension": "process",
        "description": "Block a second refund for the same order.",
        "owner_id": str(owner.id),
        "due_date": SOON,
        "cost": "",
        "principles": ["3", "6"],
        "nonconformities": "",
    }
    form.update(changes)
    return form


# --- planning ------------------------------------------------------------------------------


def test_the_new_page_shows_each_principle_with_its_description(client, login):
    login("quality_lead")
    page = text(client.get("/capa/new"))
    assert page.count('name="principles"') == 8
    assert "Customer-focused" in page
    assert "The customer determines the level of quality." in page
    assert "Communications" in page and "Changes are communicated to everyone" in page


def test_plan_a_capa_from_a_nonconformity(client, login, committed, count):
    lead = login("quality_lead")

    def setup():
        nc = make_nonconformity(title="Refunds paid twice")
        make_root_cause(nc, "No duplicate-payment check")
        return nc.reference

    nc_reference = committed(setup)
    page = text(client.get(f"/capa/new?nonconformity={nc_reference}"))
    assert f'value="{nc_reference}"' in page
    assert "No duplicate-payment check" in page  # its root causes are offered
    cause_id = re.search(r'name="root_causes" value="(\d+)"', page)[1]
    response = client.post(
        "/capa/new",
        data=new_form(lead, nonconformities=nc_reference, root_causes=[cause_id], cost="250.00"),
    )
    assert response.status_code == 302
    reference = re.search(r"/capa/(CAPA-\d{4}-\d{6})$", response.headers["Location"])[1]
    page = text(client.get(f"/capa/{reference}"))
    assert f"Planned {reference}" in page
    assert "Add a duplicate-payment check" in page
    assert "Process-centered" in page and "Continual improvement" in page
    assert nc_reference in page and "Refunds paid twice" in page
    assert f'href="/nonconformities/{nc_reference}"' in page
    assert "No duplicate-payment check" in page
    assert "250.00" in page
    assert count(Capa) == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"principles": []}, "Map the CAPA to at least one of the eight TQM principles."),
        ({"principles": ["42"]}, "'42' is not a valid choice"),
        ({"title": ""}, "This field is required."),
        ({"due_date": "next week"}, "Not a valid date value."),
        ({"due_date": (TODAY - timedelta(days=1)).isoformat()}, "cannot be in the past"),
        ({"cost": "-5"}, "The cost cannot be negative."),
        ({"kind": "sideways"}, "Not a valid choice."),
        ({"owner_id": ""}, "Choose the owner."),
        ({"nonconformities": "NC-1999-000001"}, "No nonconformity with the reference NC-1999"),
    ],
)
def test_bad_input_on_the_new_form_saves_nothing(client, login, count, changes, message):
    lead = login("quality_lead")
    response = client.post("/capa/new", data=new_form(lead, **changes))
    assert response.status_code == 422
    page = text(response)
    assert message in page
    assert "is-invalid" in page
    assert count(Capa) == 0


def test_only_quality_leads_plan_capas(client, login):
    login("contributor")
    assert client.get("/capa/new").status_code == 403


def test_plan_a_follow_up_of_an_ineffective_capa(client, login, make_capa, committed, fresh):
    lead = login("quality_lead")
    nc_reference = committed(lambda: make_nonconformity().reference)
    nc_id = committed(lambda: services.nonconformity_ids_for([nc_reference])[0])
    original = make_capa(lead, CapaStatus.INEFFECTIVE, lead=lead, nonconformity_ids=[nc_id])
    page = text(client.get(f"/capa/{original}"))
    assert "Follow-up required" in page
    assert f'href="/capa/new?follow_up_of={original}"' in page
    form_page = text(client.get(f"/capa/new?follow_up_of={original}"))
    assert f"Follow-up to {original}" in form_page
    assert f'value="{nc_reference}"' in form_page
    response = client.post(
        "/capa/new",
        data=new_form(lead, follow_up_of=original, nonconformities="", title="Train the desk"),
    )
    assert response.status_code == 302
    follow_up = fresh(response.headers["Location"].rsplit("/", 1)[1])
    assert follow_up.follow_up_of_id == fresh(original).id
    page = text(client.get(f"/capa/{original}"))
    assert follow_up.reference in page
    assert client.get("/capa/new?follow_up_of=CAPA-1999-000001").status_code == 404


def test_a_follow_up_of_a_capa_that_is_not_ineffective_is_refused(client, login, make_capa, count):
    lead = login("quality_lead")
    original = make_capa(lead)
    page = text(client.get(f"/capa/new?follow_up_of={original}"))
    assert f"Only an ineffective CAPA needs a follow-up; {original} is planned." in page
    response = client.post("/capa/new", data=new_form(lead, follow_up_of=original))
    assert response.status_code == 422
    assert f"Only an ineffective CAPA needs a follow-up; {original} is planned." in text(response)
    assert count(Capa) == 1


# --- the CAPA page -------------------------------------------------------------------------


def test_the_capa_page_shows_the_complaints_it_answers(client, login, committed, make_capa):
    lead = login("quality_lead")

    def setup():
        complaint = make_complaint(title="Charged twice for one order")
        make_complaint(title="Unrelated complaint")
        nc = make_nonconformity(complaints=[complaint])
        return complaint.reference, nc.id

    complaint_reference, nc_id = committed(setup)
    reference = make_capa(lead, nonconformity_ids=[nc_id])
    page = text(client.get(f"/capa/{reference}"))
    section = page.split("Answers these complaints", 1)[1].split("</section>", 1)[0]
    assert f'href="/complaints/{complaint_reference}"' in section
    assert "Charged twice for one order" in section
    assert "Unrelated complaint" not in section


def test_an_unknown_capa_is_not_found(client, login):
    login("auditor")
    assert client.get("/capa/CAPA-1999-000001").status_code == 404
    assert client.get("/capa/CAPA-1999-000001/edit").status_code in (403, 404)
    assert client.post("/capa/trainings/999999/complete").status_code == 403


def test_unknown_records_are_not_found_for_a_quality_lead(client, login):
    login("quality_lead")
    assert client.get("/capa/CAPA-1999-000001/edit").status_code == 404
    assert client.post("/capa/CAPA-1999-000001/transition", data={}).status_code == 404
    assert client.post("/capa/trainings/999999/complete").status_code == 404
    assert client.post("/capa/checks/999999/result").status_code == 404
    assert client.post("/capa/checks/999999/evaluate").status_code == 404


def test_workflow_buttons_and_disabled_ones_say_why(client, login, make_capa, fresh):
    lead = login("quality_lead")
    reference = make_capa(lead, CapaStatus.IMPLEMENTED, lead=lead)
    page = text(client.get(f"/capa/{reference}"))
    assert re.search(r'<button[^>]*value="verify"[^>]*disabled', page)
    assert "Plan an effectiveness check first." in page
    response = client.post(f"/capa/{reference}/transition", data={"transition": "verify"})
    assert response.status_code == 422
    assert "Plan an effectiveness check first." in text(response)
    assert fresh(reference).status == CapaStatus.IMPLEMENTED


def test_a_transition_through_the_page(client, login, make_capa, fresh):
    lead = login("quality_lead")
    reference = make_capa(lead)
    response = client.post(
        f"/capa/{reference}/transition", data={"transition": "start", "reason": "Kick-off"}
    )
    assert response.status_code == 302
    assert fresh(reference).status == CapaStatus.IN_PROGRESS
    page = text(client.get(f"/capa/{reference}"))
    assert f"{reference} is now in progress." in page
    assert "reason: Kick-off" in page  # the history panel


@pytest.mark.parametrize("name", ["", "teleport", "mark_effective", "close"])
def test_bad_transitions_are_refused(client, login, make_capa, fresh, name):
    lead = login("quality_lead")
    reference = make_capa(lead)
    response = client.post(f"/capa/{reference}/transition", data={"transition": name})
    assert response.status_code == 422
    assert fresh(reference).status == CapaStatus.PLANNED


# --- training ------------------------------------------------------------------------------


def test_assign_and_complete_training(client, login, make_user, make_capa, fresh, count):
    lead = login("quality_lead")
    staff = make_user("contributor", full_name="Sam Staff")
    reference = make_capa(lead, CapaStatus.IN_PROGRESS, lead=lead, recovery_dimension="employee")
    page = text(client.get(f"/capa/{reference}"))
    assert "1 training assignment" not in page
    assert "needs at least one training assignment" in page
    response = client.post(
        f"/capa/{reference}/trainings",
        data={
            "training-staff_id": str(staff.id),
            "training-topic": "Refunds",
            "training-due_date": SOON,
        },
    )
    assert response.status_code == 302
    assert count(TrainingAssignment) == 1
    page = text(client.get(f"/capa/{reference}"))
    assert "Sam Staff" in page and "1 training assignment(s) are not completed yet." in page
    training_id = int(re.search(r"/capa/trainings/(\d+)/complete", page)[1])
    response = client.post(f"/capa/trainings/{training_id}/complete", data={"return_to": "capa"})
    assert response.status_code == 302
    response = client.post(f"/capa/trainings/{training_id}/complete", data={"return_to": "capa"})
    assert response.status_code == 422
    assert "already completed" in text(response)
    response = client.post(f"/capa/{reference}/transition", data={"transition": "implement"})
    assert response.status_code == 302
    assert fresh(reference).status == CapaStatus.IMPLEMENTED


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"training-staff_id": ""}, "Choose the staff member."),
        ({"training-staff_id": "999999"}, "Not a valid choice."),
        ({"training-topic": ""}, "This field is required."),
        ({"training-due_date": "soon"}, "Not a valid date value."),
        ({"training-due_date": "2001-01-01"}, "cannot be in the past"),
    ],
)
def test_bad_training_input_saves_nothing(
    client, login, make_user, make_capa, count, changes, message
):
    lead = login("quality_lead")
    staff = make_user("contributor")
    reference = make_capa(lead)
    data = {
        "training-staff_id": str(staff.id),
        "training-topic": "Refunds",
        "training-due_date": SOON,
    }
    data.update(changes)
    response = client.post(f"/capa/{reference}/trainings", data=data)
    assert response.status_code == 422
    assert message in text(response)
    assert count(TrainingAssignment) == 0


def test_staff_complete_their_own_training_from_my_work(client, login, make_user, committed):
    me = login("contributor")

    def setup():
        lead = users.create_user("quality_lead")
        capa = plan(lead, recovery_dimension="employee")
        mine = capa_training.assign_training(
            capa, staff_id=me.id, topic="Refund rules", due_date=TODAY, user=lead
        )
        other = capa_training.assign_training(
            capa, staff_id=lead.id, topic="Not mine", due_date=TODAY, user=lead
        )
        return mine.id, other.id

    mine, other = committed(setup)
    page = text(client.get("/my-work"))
    assert "Refund rules" in page and "Not mine" not in page
    assert client.post(f"/capa/trainings/{other}/complete").status_code == 403
    response = client.post(f"/capa/trainings/{mine}/complete", data={"return_to": "my_work"})
    assert response.status_code == 302 and response.headers["Location"] == "/my-work"
    page = text(client.get("/my-work"))
    assert "Training “Refund rules” is completed." in page
    assert "No open training." in page


# --- effectiveness checks ------------------------------------------------------------------


def test_plan_a_check_and_record_a_failed_result(client, login, make_capa, fresh, count):
    lead = login("quality_lead")
    reference = make_capa(lead, CapaStatus.IMPLEMENTED, lead=lead)
    response = client.post(
        f"/capa/{reference}/checks",
        data={
            "check-method": "manual_review",
            "check-criterion": "No duplicate refunds in June",
            "check-due_date": SOON,
        },
    )
    assert response.status_code == 302
    assert count(EffectivenessCheck) == 1
    client.post(f"/capa/{reference}/transition", data={"transition": "verify"})
    page = text(client.get(f"/capa/{reference}"))
    check_id = int(re.search(r"/capa/checks/(\d+)/result", page)[1])
    response = client.post(
        f"/capa/checks/{check_id}/result",
        data={f"result{check_id}-result": "failed", f"result{check_id}-evidence": "Two again"},
    )
    assert response.status_code == 302
    assert fresh(reference).status == CapaStatus.INEFFECTIVE
    page = text(client.get(f"/capa/{reference}"))
    assert "is now ineffective. A follow-up action is required." in page
    assert "Follow-up required" in page
    assert "Two again" in page


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"check-method": "astrology"}, "Not a valid choice."),
        ({"check-method": "no_recurrence"}, "needs a window of at least one day"),
        ({"check-method": "no_recurrence", "check-window_days": "0"}, "Number must be between"),
        ({"check-window_days": "many"}, "Not a valid integer value."),
        ({"check-criterion": ""}, "A criterion is required."),
        ({"check-due_date": ""}, "A due date is required."),
    ],
)
def test_bad_check_plans_save_nothing(client, login, make_capa, count, changes, message):
    lead = login("quality_lead")
    reference = make_capa(lead)
    data = {
        "check-method": "manual_review",
        "check-criterion": "No duplicates",
        "check-window_days": "",
        "check-due_date": SOON,
    }
    data.update(changes)
    response = client.post(f"/capa/{reference}/checks", data=data)
    assert response.status_code == 422
    assert message in text(response)
    assert count(EffectivenessCheck) == 0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"evidence": ""}, "Evidence is required."),
        ({"result": "pending"}, "Not a valid choice."),
    ],
)
def test_bad_check_results_save_nothing(
    client, login, make_capa, committed, fresh, changes, message
):
    lead = login("quality_lead")
    reference = make_capa(lead, CapaStatus.VERIFYING, lead=lead)
    check_id = committed(lambda: get_capa(reference).checks[0].id)
    data = {"result": "passed", "evidence": "Looked fine"}
    data.update(changes)
    response = client.post(
        f"/capa/checks/{check_id}/result",
        data={f"result{check_id}-{key}": value for key, value in data.items()},
    )
    assert response.status_code == 422
    assert message in text(response)
    capa = fresh(reference)
    assert capa.status == CapaStatus.VERIFYING
    assert committed(lambda: db.session.get(EffectivenessCheck, check_id).result) == (
        CheckResult.PENDING
    )


def test_evaluate_now_passes_an_automatic_check_and_refuses_a_manual_one(
    client, login, make_capa, committed, fresh
):
    lead = login("quality_lead")

    def setup():
        from tests.capa.factories import make_category, make_process

        nc = make_nonconformity(process=make_process(), category=make_category())
        walker = get_user(lead.id)
        capa = plan(walker, nonconformity_ids=[nc.id])
        automatic = capa_effectiveness.plan_effectiveness_check(
            capa,
            criterion="",
            method="no_recurrence",
            window_days=7,
            due_date=TODAY,
            user=walker,
        )
        advance(capa, CapaStatus.VERIFYING, walker)
        capa.implemented_at = capa.implemented_at - timedelta(days=8)
        manual = capa_effectiveness.plan_effectiveness_check(
            capa,
            criterion="Review the refund log",
            method="manual_review",
            window_days=None,
            due_date=TODAY,
            user=walker,
        )
        return capa.reference, automatic.id, manual.id

    reference, automatic, manual = committed(setup)
    page = text(client.get(f"/capa/{reference}"))
    assert f"/capa/checks/{automatic}/evaluate" in page
    response = client.post(f"/capa/checks/{manual}/evaluate")
    assert response.status_code == 422
    assert "Only automatic no-recurrence checks" in text(response)
    response = client.post(f"/capa/checks/{automatic}/evaluate")
    assert response.status_code == 302
    page = text(client.get(f"/capa/{reference}"))
    assert "0 new records" in page
    assert committed(lambda: db.session.get(EffectivenessCheck, automatic).result) == (
        CheckResult.PASSED
    )


# --- signing -------------------------------------------------------------------------------


def test_wrong_signing_passwords_count_toward_the_lockout(
    client, login, make_user, make_capa, committed, fresh, count
):
    from app.accounts.models import LoginAttempt

    lead = login("quality_lead")
    # Separation of duties: the signer neither owns nor implemented the CAPA.
    reference = make_capa(make_user("contributor"), CapaStatus.VERIFYING)
    committed(
        lambda: capa_effectiveness.record_check_result(
            get_capa(reference).checks[0], result="passed", evidence="ok", user=get_user(lead.id)
        )
    )
    for _ in range(5):
        response = client.post(
            f"/capa/{reference}/verify-effectiveness",
            data={"effectiveness-password": "a wrong guess", "effectiveness-meaning": "verified"},
        )
        assert response.status_code == 422
    # The request rolled back each refused signing, but kept each failed attempt.
    assert count(LoginAttempt) == 1 + 5
    response = client.post(
        f"/capa/{reference}/verify-effectiveness",
        data={"effectiveness-password": TEST_PASSWORD, "effectiveness-meaning": "verified"},
    )
    assert response.status_code == 422
    assert "Signing is locked for a while after too many wrong passwords" in text(response)
    assert fresh(reference).status == CapaStatus.VERIFYING
    assert count(Signature) == 0
    # The same count locks the sign-in page.
    client.post("/logout")
    response = client.post("/login", data={"email": lead.email, "password": TEST_PASSWORD})
    assert response.status_code == 200


def test_verify_effectiveness_needs_the_password_then_an_edit_shows_on_the_signature(
    client, login, make_user, make_capa, committed, fresh, count
):
    lead = login("quality_lead")
    # Separation of duties: the signer neither owns nor implemented the CAPA.
    reference = make_capa(make_user("contributor"), CapaStatus.VERIFYING)
    committed(
        lambda: capa_effectiveness.record_check_result(
            get_capa(reference).checks[0], result="passed", evidence="ok", user=get_user(lead.id)
        )
    )
    page = text(client.get(f"/capa/{reference}"))
    assert "Verify effectiveness" in page and 'name="effectiveness-password"' in page

    response = client.post(
        f"/capa/{reference}/verify-effectiveness",
        data={"effectiveness-password": "wrong password", "effectiveness-meaning": "verified"},
    )
    assert response.status_code == 422
    assert "The password is not right; nothing was signed." in text(response)
    assert fresh(reference).status == CapaStatus.VERIFYING
    assert count(Signature) == 0

    response = client.post(
        f"/capa/{reference}/verify-effectiveness",
        data={"effectiveness-password": TEST_PASSWORD, "effectiveness-meaning": ""},
    )
    assert response.status_code == 422
    assert "Choose what the signature means." in text(response)
    assert count(Signature) == 0

    response = client.post(
        f"/capa/{reference}/verify-effectiveness",
        data={"effectiveness-password": TEST_PASSWORD, "effectiveness-meaning": "verified"},
    )
    assert response.status_code == 302
    assert fresh(reference).status == CapaStatus.EFFECTIVE
    page = text(client.get(f"/capa/{reference}"))
    assert f"{lead.full_name} — Verified — " in page
    signature_hash = committed(lambda: db.session.scalars(select(Signature)).one().content_hash)
    assert signature_hash in page
    assert "Changed after signature" not in page

    capa = fresh(reference)
    edit = client.get(f"/capa/{reference}/edit")
    assert edit.status_code == 200
    response = client.post(
        f"/capa/{reference}/edit",
        data={
            **new_form(lead, title="Reworded after signing", due_date=capa.due_date.isoformat()),
            "version": str(capa.version),
        },
    )
    assert response.status_code == 302, text(response)
    page = text(client.get(f"/capa/{reference}"))
    assert "Changed after signature" in page


def test_close_needs_the_password_and_records_the_closure_signature(
    client, login, make_user, make_capa, fresh, count
):
    lead = login("quality_lead")
    # Separation of duties: the signer neither owns nor implemented the CAPA.
    reference = make_capa(make_user("contributor"), CapaStatus.EFFECTIVE)
    response = client.post(
        f"/capa/{reference}/close",
        data={"closure-password": "nope nope nope", "closure-meaning": "approved"},
    )
    assert response.status_code == 422
    assert fresh(reference).status == CapaStatus.EFFECTIVE
    assert count(Signature) == 1
    response = client.post(
        f"/capa/{reference}/close",
        data={"closure-password": TEST_PASSWORD, "closure-meaning": "approved"},
    )
    assert response.status_code == 302
    assert fresh(reference).status == CapaStatus.CLOSED
    page = text(client.get(f"/capa/{reference}"))
    assert f"{lead.full_name} — Approved — " in page
    assert "Closure" in page and "Effectiveness verification" in page
    # Closing is not an edit: the effectiveness signature still matches what was signed.
    assert "Changed after signature" not in page


# --- editing -------------------------------------------------------------------------------


def test_a_stale_edit_is_refused_with_a_reload_link(client, login, make_capa, fresh, committed):
    lead = login("quality_lead")
    reference = make_capa(lead)
    capa = fresh(reference)
    committed(lambda: services.transition_capa(get_capa(reference), "start", get_user(lead.id)))
    response = client.post(
        f"/capa/{reference}/edit",
        data={**new_form(lead, title="My late edit"), "version": str(capa.version)},
    )
    assert response.status_code == 422
    page = text(response)
    assert "was changed by someone else since you opened it" in page
    assert "Reload the current version" in page
    assert fresh(reference).title == "Add a duplicate-payment check"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"principles": []}, "Map the CAPA to at least one of the eight TQM principles."),
        ({"title": ""}, "This field is required."),
        ({"cost": "lots"}, "Not a valid decimal value."),
        ({"nonconformities": "NC-1999-000009"}, "No nonconformity with the reference"),
    ],
)
def test_bad_edits_change_nothing(client, login, make_capa, fresh, changes, message):
    lead = login("quality_lead")
    reference = make_capa(lead)
    capa = fresh(reference)
    data = {**new_form(lead, title="Changed"), "version": str(capa.version), **changes}
    response = client.post(f"/capa/{reference}/edit", data=data)
    assert response.status_code == 422
    assert message in text(response)
    after = fresh(reference)
    assert after.title == "Add a duplicate-payment check" and after.version == capa.version


def test_the_owner_may_edit_but_another_contributor_may_not(client, login, make_user, make_capa):
    me = login("contributor")
    reference = make_capa(me)
    someone = make_user("contributor")
    theirs = make_capa(someone)
    assert client.get(f"/capa/{reference}/edit").status_code == 200
    assert client.get(f"/capa/{theirs}/edit").status_code == 403
    assert client.post(f"/capa/{theirs}/edit", data={}).status_code == 403
    assert client.post(f"/capa/{theirs}/transition", data={"transition": "start"}).status_code == (
        403
    )


def test_a_contributor_owner_starts_and_implements_but_sees_no_signing_form(
    client, login, make_capa, fresh, committed
):
    me = login("contributor")
    reference = make_capa(me)
    assert (
        client.post(f"/capa/{reference}/transition", data={"transition": "start"}).status_code
        == 302
    )
    assert (
        client.post(f"/capa/{reference}/transition", data={"transition": "implement"}).status_code
        == 302
    )
    assert fresh(reference).status == CapaStatus.IMPLEMENTED

    def to_verifying():
        lead = users.create_user("quality_lead")
        capa = get_capa(reference)
        check = pending_check(capa, lead)
        services.transition_capa(capa, "verify", lead)
        capa_effectiveness.record_check_result(check, result="passed", evidence="ok", user=lead)

    committed(to_verifying)
    page = text(client.get(f"/capa/{reference}"))
    assert "A quality lead signs this step." in page
    assert 'name="effectiveness-password"' not in page
    response = client.post(
        f"/capa/{reference}/verify-effectiveness",
        data={"effectiveness-password": TEST_PASSWORD, "effectiveness-meaning": "verified"},
    )
    assert response.status_code == 403
    assert fresh(reference).status == CapaStatus.VERIFYING


def test_an_auditor_gets_403_on_every_post(client, login, make_capa, committed):
    login("auditor")

    def setup():
        lead = users.create_user("quality_lead")
        capa = plan(lead, recovery_dimension="employee")
        training = capa_training.assign_training(
            capa, staff_id=lead.id, topic="x", due_date=TODAY, user=lead
        )
        check = pending_check(capa, lead)
        return capa.reference, training.id, check.id

    reference, training_id, check_id = committed(setup)
    posts = [
        "/capa/new",
        f"/capa/{reference}/edit",
        f"/capa/{reference}/transition",
        f"/capa/{reference}/trainings",
        f"/capa/trainings/{training_id}/complete",
        f"/capa/{reference}/checks",
        f"/capa/checks/{check_id}/result",
        f"/capa/checks/{check_id}/evaluate",
        f"/capa/{reference}/verify-effectiveness",
        f"/capa/{reference}/close",
    ]
    for path in posts:
        assert client.post(path, data={"transition": "start"}).status_code == 403, path
    page = text(client.get(f"/capa/{reference}"))
    assert "Edit</a>" not in page and "Mark completed" not in page and "Assign" not in page
