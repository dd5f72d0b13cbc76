"""The nonconformity pages: raise (also from a complaint), the record page, edit, workflow,
signed closure and complaint links — as each role sees them."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import func, select

from app.accounts.models import User
from app.capa.models import CapaStatus
from app.core.audit import AuditAction, AuditEvent
from app.core.db import utcnow
from app.core.signatures import Signature
from app.extensions import db
from app.nonconformities import services
from app.nonconformities.models import Nonconformity, NonconformityStatus
from tests.conftest import TEST_PASSWORD
from tests.nonconformities.factories import (
    make_capa,
    make_category,
    make_complaint,
    make_process,
    raise_nc,
)

S = NonconformityStatus


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def visible(response) -> str:
    """The page's text as a reader sees it: no tags, whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", text(response)).split())


def field_tag(page: str, field_id: str) -> str:
    match = re.search(rf'<(?:input|select|textarea)\b[^>]*\bid="{field_id}"[^>]*>', page)
    assert match, f"no field with id {field_id!r}"
    return match[0]


def field_error(page: str, field_id: str) -> str:
    """The error text shown under a field (empty when none)."""
    match = re.search(rf'id="{field_id}-error">(.*?)</div></div>', page, re.S)
    return re.sub(r"<[^>]+>", " ", match[1]).strip() if match else ""


def _new_nc(committed, **fields) -> Nonconformity:
    return committed(lambda: raise_nc(**fields))


def _user(user_id: int) -> User:
    return db.session.get(User, user_id)


def _get(reference: str) -> Nonconformity:
    return services.get_by_reference(reference)


# --- raising -----------------------------------------------------------------------------------

VALID = {
    "title": "Invoices sent twice",
    "source": "process_monitoring",
    "detected_at": "2026-01-15T09:30",
    "severity": "7",
    "occurrence": "5",
    "detection": "4",
    "description": "40 invoices went out twice",
    "containment_action": "",
    "process_id": "",
    "category_id": "",
    "owner_id": "",
}


def test_a_contributor_raises_a_nonconformity_and_owns_it_by_default(client, login, count) -> None:
    me = login("contributor")
    form = text(client.get("/nonconformities/new"))
    assert f'<option selected value="{me.id}">' in form

    response = client.post("/nonconformities/new", data={**VALID, "owner_id": str(me.id)})

    assert response.status_code == 302
    page = text(client.get(response.headers["Location"]))
    assert "Raised the nonconformity NC-" in page
    assert "Invoices sent twice" in page
    assert "2026-01-15 09:30:00 UTC" in page
    assert count(Nonconformity) == 1


@pytest.mark.parametrize(
    ("changes", "field_id", "message"),
    [
        ({"title": ""}, "title", "This field is required."),
        ({"source": "gossip"}, "source", "Not a valid choice."),
        ({"detected_at": "yesterday"}, "detected_at", "Not a valid datetime value."),
        ({"severity": "11"}, "severity", "Use a whole number from 1 to 10."),
        ({"occurrence": ""}, "occurrence", "A whole number from 1 to 10 is required."),
        ({"detection": "x"}, "detection", "Not a valid integer value."),
        ({"process_id": "999999"}, "process_id", "Not a valid choice."),
        ({"title": "x" * 201}, "title", "Field cannot be longer than 200 characters."),
    ],
)
def test_bad_input_on_the_raise_form(client, login, count, changes, field_id, message) -> None:
    login("quality_lead")
    response = client.post("/nonconformities/new", data={**VALID, **changes})
    page = text(response)
    assert response.status_code == 422
    assert "is-invalid" in field_tag(page, field_id)
    assert message in page
    assert count(Nonconformity) == 0


def test_a_future_detection_time_is_refused_on_its_field(client, login, count) -> None:
    login("quality_lead")
    future = (utcnow() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post("/nonconformities/new", data={**VALID, "detected_at": future})
    assert response.status_code == 422
    assert "is-invalid" in field_tag(text(response), "detected_at")
    assert "The detection time cannot be in the future." in text(response)
    assert count(Nonconformity) == 0


def test_auditors_cannot_raise(client, login) -> None:
    login("auditor")
    assert client.get("/nonconformities/new").status_code == 403
    assert client.post("/nonconformities/new", data=VALID).status_code == 403


def test_raise_from_a_complaint_prefills_and_links_it(client, login, committed, fetch) -> None:
    login("contributor")

    def setup():
        process, category = make_process("Billing"), make_category("Duplicate charge")
        return (
            make_complaint(
                title="Charged twice for March",
                description="Two debits on the same day",
                process_id=process.id,
                category_id=category.id,
            ),
            process,
            category,
        )

    complaint, process, category = committed(setup)

    form = text(client.get(f"/nonconformities/new?complaint={complaint.reference}"))

    assert f"Raised from the complaint {complaint.reference} (Charged twice for March)" in " ".join(
        re.sub(r"<[^>]+>", " ", form).split()
    )
    assert 'value="Charged twice for March"' in field_tag(form, "title")
    assert "Two debits on the same day" in form
    assert '<option selected value="customer_complaint">' in form
    assert f'<option selected value="{process.id}">' in form
    assert f'<option selected value="{category.id}">' in form
    received = complaint.received_at.strftime("%Y-%m-%dT%H:%M")
    assert f'value="{received}"' in field_tag(form, "detected_at")
    assert f'value="{complaint.reference}"' in field_tag(form, "complaint")

    response = client.post(
        "/nonconformities/new",
        data={
            **VALID,
            "title": "Charged twice for March",
            "source": "customer_complaint",
            "detected_at": received,
            "process_id": str(process.id),
            "category_id": str(category.id),
            "complaint": complaint.reference,
        },
    )
    assert response.status_code == 302
    reference = response.headers["Location"].rsplit("/", 1)[-1]
    page = text(client.get(f"/nonconformities/{reference}"))
    assert f'<a href="/complaints/{complaint.reference}">{complaint.reference}</a>' in page
    assert "Charged twice for March" in page


def test_raise_from_an_unknown_complaint(client, login, count) -> None:
    login("quality_lead")
    assert client.get("/nonconformities/new?complaint=CMP-1999-000001").status_code == 404
    response = client.post("/nonconformities/new", data={**VALID, "complaint": "CMP-1999-000001"})
    assert response.status_code == 422
    assert "There is no complaint CMP-1999-000001 to link." in text(response)
    assert count(Nonconformity) == 0


# --- the record page ---------------------------------------------------------------------------


def test_the_record_page_shows_everything(client, login, committed) -> None:
    login("auditor")

    def setup():
        nc = raise_nc(severity=7, occurrence=5, detection=4, containment_action="Hold the run")
        nc.complaints.append(make_complaint(title="Double debit"))
        capa = make_capa(nc, title="Add a duplicate check")
        return nc, capa

    nc, capa = committed(setup)
    page = visible(client.get(f"/nonconformities/{nc.reference}"))

    assert "Severity 7 × occurrence 5 × detection 4 = RPN 140" in page
    assert "140 · Medium" in page
    assert "in the medium band" in page
    assert "Hold the run" in page
    assert "Double debit" in page
    assert f"{capa.reference} Add a duplicate check Planned" in page
    raw = text(client.get(f"/nonconformities/{nc.reference}"))
    assert f'<a href="/capa/{capa.reference}">{capa.reference}</a>' in raw
    assert 'data-testid="record-history"' in raw and "Create" in page
    assert "Only a quality lead or the owner may move this nonconformity on." in page
    assert "Start analysis" not in page  # auditors change nothing
    assert ">Edit<" not in raw


def test_unknown_references_are_404(client, login) -> None:
    login("quality_lead")
    assert client.get("/nonconformities/NC-1999-000001").status_code == 404
    assert client.get("/nonconformities/NC-1999-000001/edit").status_code == 404
    assert client.post("/nonconformities/NC-1999-000001/transition").status_code == 404
    assert client.post("/nonconformities/NC-1999-000001/close").status_code == 404


def test_workflow_buttons_and_why_they_are_disabled(client, login, committed) -> None:
    login("quality_lead")
    nc = _new_nc(committed)
    page = text(client.get(f"/nonconformities/{nc.reference}"))
    contain = re.search(r'<button[^>]*data-testid="transition-contain"[^>]*>', page)[0]
    assert "disabled" in contain
    assert "Describe the containment action first." in page
    investigate = re.search(r'<button[^>]*data-testid="transition-investigate"[^>]*>', page)[0]
    assert "disabled" not in investigate
    assert 'id="reason-cancel"' in page  # cancel asks for a reason


# --- edit --------------------------------------------------------------------------------------


def _edit_data(nc, **changes) -> dict[str, str]:
    data = {
        "title": nc.title,
        "description": nc.description,
        "process_id": "",
        "category_id": "",
        "owner_id": str(nc.owner_id or ""),
        "severity": str(nc.severity),
        "occurrence": str(nc.occurrence),
        "detection": str(nc.detection),
        "containment_action": nc.containment_action,
        "version": str(nc.version),
    }
    data.update(changes)
    return data


def test_the_owner_edits_their_nonconformity(client, login, committed, fetch) -> None:
    me = login("contributor")
    nc = _new_nc(committed, owner_id=me.id)
    form = text(client.get(f"/nonconformities/{nc.reference}/edit"))
    assert f'value="{nc.version}"' in field_tag(form, "version")
    assert 'name="status"' not in form and 'name="source"' not in form

    response = client.post(
        f"/nonconformities/{nc.reference}/edit",
        data=_edit_data(nc, title="Duplicate invoices", containment_action="Hold the run"),
    )

    assert response.status_code == 302
    saved = fetch(Nonconformity, nc.id)
    assert (saved.title, saved.containment_action) == ("Duplicate invoices", "Hold the run")
    assert saved.status == S.OPEN


@pytest.mark.parametrize("role", ["contributor", "auditor", "admin"])
def test_others_may_not_edit(client, login, committed, role) -> None:
    login(role)
    nc = _new_nc(committed)
    assert client.get(f"/nonconformities/{nc.reference}/edit").status_code == 403
    response = client.post(f"/nonconformities/{nc.reference}/edit", data=_edit_data(nc))
    assert response.status_code == 403


def test_a_stale_edit_is_refused_and_nothing_is_overwritten(client, login, committed, fetch):
    login("quality_lead")
    nc = _new_nc(committed)
    stale = _edit_data(nc, title="My late change")
    client.post(f"/nonconformities/{nc.reference}/edit", data=_edit_data(nc, title="First"))

    response = client.post(f"/nonconformities/{nc.reference}/edit", data=stale)

    page = text(response)
    assert response.status_code == 422
    assert "was changed by someone else since you opened it" in page
    assert "Reload the current version" in page
    assert 'value="My late change"' in field_tag(page, "title")  # the user's entry is kept
    assert fetch(Nonconformity, nc.id).title == "First"


@pytest.mark.parametrize(
    ("changes", "field_id"),
    [
        ({"title": ""}, "title"),
        ({"severity": "0"}, "severity"),
        ({"owner_id": "999999"}, "owner_id"),
    ],
)
def test_bad_input_on_the_edit_form(client, login, committed, fetch, changes, field_id) -> None:
    login("quality_lead")
    nc = _new_nc(committed)
    response = client.post(f"/nonconformities/{nc.reference}/edit", data=_edit_data(nc, **changes))
    assert response.status_code == 422
    assert "is-invalid" in field_tag(text(response), field_id)
    saved = fetch(Nonconformity, nc.id)
    assert (saved.title, saved.severity, saved.version) == (nc.title, nc.severity, nc.version)


# --- workflow ----------------------------------------------------------------------------------


def test_contain_without_a_containment_action_says_why(client, login, committed, fetch) -> None:
    login("quality_lead")
    nc = _new_nc(committed)
    response = client.post(
        f"/nonconformities/{nc.reference}/transition",
        data={"transition": "contain", "version": nc.version},
    )
    assert response.status_code == 422
    assert "Describe the containment action first." in text(response)
    assert fetch(Nonconformity, nc.id).status == S.OPEN


def test_a_transition_moves_the_nonconformity_on(client, login, committed, fetch) -> None:
    login("quality_lead")
    nc = _new_nc(committed, containment_action="Hold the run")
    response = client.post(
        f"/nonconformities/{nc.reference}/transition",
        data={"transition": "contain", "version": nc.version},
    )
    assert response.status_code == 302
    assert "is now contained" in text(client.get(response.headers["Location"]))
    saved = fetch(Nonconformity, nc.id)
    assert saved.status == S.CONTAINED and saved.contained_at is not None


def test_bad_input_on_the_transition_form(client, login, committed, fetch) -> None:
    login("quality_lead")
    nc = _new_nc(committed)
    for data, message in (
        ({"version": nc.version}, "Choose an action."),
        ({"transition": "teleport", "version": nc.version}, "no action called 'teleport'"),
        ({"transition": "investigate"}, "the form is missing its version"),
        (
            {"transition": "cancel", "reason": "", "version": nc.version},
            "A reason for cancelling is required.",
        ),
        ({"transition": "investigate", "version": str(nc.version - 1)}, "changed by someone else"),
    ):
        response = client.post(f"/nonconformities/{nc.reference}/transition", data=data)
        assert response.status_code == 422, data
        assert message in text(response)
    assert fetch(Nonconformity, nc.id).status == S.OPEN


def test_cancel_with_a_reason(client, login, committed, fetch) -> None:
    login("quality_lead")
    nc = _new_nc(committed)
    response = client.post(
        f"/nonconformities/{nc.reference}/transition",
        data={"transition": "cancel", "reason": "Raised twice", "version": nc.version},
    )
    assert response.status_code == 302
    page = text(client.get(f"/nonconformities/{nc.reference}"))
    assert "Cancelled because" in page and "Raised twice" in page
    assert fetch(Nonconformity, nc.id).status == S.CANCELLED


@pytest.mark.parametrize("role", ["auditor", "contributor"])
def test_readers_and_non_owners_cannot_move_it(client, login, committed, fetch, role) -> None:
    login(role)
    nc = _new_nc(committed, containment_action="Hold")
    for path, data in (
        ("transition", {"transition": "contain"}),
        ("close", {"password": TEST_PASSWORD, "meaning": "approved"}),
    ):
        assert client.post(f"/nonconformities/{nc.reference}/{path}", data=data).status_code == 403
    assert fetch(Nonconformity, nc.id).status == S.OPEN


def test_an_owner_contributor_may_not_plan_action(client, login, committed, fetch) -> None:
    me = login("contributor")

    def setup():
        nc = raise_nc(owner_id=me.id)
        nc.status = S.UNDER_INVESTIGATION
        make_capa(nc)
        return nc

    nc = committed(setup)
    page = text(client.get(f"/nonconformities/{nc.reference}"))
    assert 'data-testid="transition-plan_action"' not in page
    response = client.post(
        f"/nonconformities/{nc.reference}/transition",
        data={"transition": "plan_action", "version": nc.version},
    )
    assert response.status_code == 403
    assert fetch(Nonconformity, nc.id).status == S.UNDER_INVESTIGATION


# --- signed closure ----------------------------------------------------------------------------


def _verifying_nc(committed, lead_id: int, capa_status=CapaStatus.CLOSED) -> Nonconformity:
    def setup():
        lead = _user(lead_id)
        nc = raise_nc(containment_action="Hold the run")
        for name in ("contain", "investigate"):
            services.transition_nonconformity(nc, name, lead)
        capa = make_capa(nc)
        services.transition_nonconformity(nc, "plan_action", lead)
        capa.status = CapaStatus.IMPLEMENTED
        services.transition_nonconformity(nc, "verify", lead)
        capa.status = capa_status
        db.session.flush()
        return nc

    return committed(setup)


def _signature_count(committed) -> int:
    return committed(lambda: db.session.scalar(select(func.count()).select_from(Signature)))


def test_close_with_a_wrong_password(client, login, committed, fetch) -> None:
    lead = login("quality_lead")
    nc = _verifying_nc(committed, lead.id)

    response = client.post(
        f"/nonconformities/{nc.reference}/close",
        data={"password": "not my password", "meaning": "approved", "version": nc.version},
    )

    page = text(response)
    assert response.status_code == 422
    assert "is-invalid" in field_tag(page, "password")
    assert "The password is not right; nothing was signed." in field_error(page, "password")
    assert 'value="not my password"' not in page
    saved = fetch(Nonconformity, nc.id)
    assert (saved.status, saved.closed_at, saved.version) == (S.VERIFYING, None, nc.version)
    assert _signature_count(committed) == 0


def test_bad_input_on_the_close_form(client, login, committed, fetch) -> None:
    lead = login("quality_lead")
    nc = _verifying_nc(committed, lead.id)
    for data, field_id in (
        ({"password": "", "meaning": "approved"}, "password"),
        ({"password": TEST_PASSWORD, "meaning": "authored"}, "meaning"),
    ):
        response = client.post(f"/nonconformities/{nc.reference}/close", data=data)
        assert response.status_code == 422
        assert "is-invalid" in field_tag(text(response), field_id)
    response = client.post(
        f"/nonconformities/{nc.reference}/close",
        data={"password": TEST_PASSWORD, "meaning": "approved"},
    )
    assert response.status_code == 422
    assert "the form is missing its version" in text(response)
    assert fetch(Nonconformity, nc.id).status == S.VERIFYING
    assert _signature_count(committed) == 0


def test_close_is_refused_while_a_capa_is_open(client, login, committed, fetch) -> None:
    lead = login("quality_lead")
    nc = _verifying_nc(committed, lead.id, capa_status=CapaStatus.VERIFYING)
    capa_reference = committed(lambda: _get(nc.reference).capas[0].reference)
    page = text(client.get(f"/nonconformities/{nc.reference}"))
    assert f"A nonconformity cannot close while a linked CAPA is open: {capa_reference}." in page
    response = client.post(
        f"/nonconformities/{nc.reference}/close",
        data={"password": TEST_PASSWORD, "meaning": "approved", "version": nc.version},
    )
    assert response.status_code == 422
    assert capa_reference in text(response)
    assert fetch(Nonconformity, nc.id).status == S.VERIFYING


def test_close_signs_and_a_later_edit_shows_it(client, login, committed, fetch) -> None:
    lead = login("quality_lead")
    nc = _verifying_nc(committed, lead.id)
    page = text(client.get(f"/nonconformities/{nc.reference}"))
    assert "Close and sign" in page

    response = client.post(
        f"/nonconformities/{nc.reference}/close",
        data={"password": TEST_PASSWORD, "meaning": "approved", "version": nc.version},
    )

    assert response.status_code == 302
    page = text(client.get(response.headers["Location"]))
    assert f"Closed {nc.reference} under your signature" in page
    assert f"{lead.full_name} — Approved — " in page
    assert "Content unchanged since signing." in page
    assert fetch(Nonconformity, nc.id).status == S.CLOSED
    events = committed(
        lambda: [
            e.action
            for e in db.session.scalars(
                select(AuditEvent)
                .where(
                    AuditEvent.record_type == "nonconformity", AuditEvent.record_id == str(nc.id)
                )
                .order_by(AuditEvent.id)
            )
        ]
    )
    assert events[-2:] == [AuditAction.TRANSITION, AuditAction.SIGN]

    # Closed and signed: read-only. No Edit; the edit form sends the user back with the reason.
    closed = fetch(Nonconformity, nc.id)
    assert 'data-testid="edit"' not in client.get(f"/nonconformities/{nc.reference}").text
    response = client.get(f"/nonconformities/{nc.reference}/edit", follow_redirects=True)
    assert "is closed and read-only; reopen it (with a reason)" in text(response)
    response = client.post(
        f"/nonconformities/{nc.reference}/edit", data=_edit_data(closed, title="Retitled")
    )
    assert fetch(Nonconformity, nc.id).title == closed.title
    # A reopen with a reason voids the signature, visibly.
    response = client.post(
        f"/nonconformities/{nc.reference}/transition",
        data={"transition": "reopen", "reason": "Recurred", "version": closed.version},
    )
    assert response.status_code == 302
    page = text(client.get(f"/nonconformities/{nc.reference}"))
    assert "Void — superseded by reopen on" in page and "Recurred" in page
    assert "Changed after signature" not in page
    assert 'data-testid="edit"' in client.get(f"/nonconformities/{nc.reference}").text


# --- complaint links ---------------------------------------------------------------------------


def test_link_and_unlink_a_complaint(client, login, committed, fetch) -> None:
    login("quality_lead")
    nc = _new_nc(committed)
    complaint = committed(lambda: make_complaint(title="Double debit"))

    response = client.post(
        f"/nonconformities/{nc.reference}/complaints",
        data={"complaint_reference": complaint.reference.lower()},
    )
    assert response.status_code == 302
    assert "Double debit" in text(client.get(f"/nonconformities/{nc.reference}"))
    assert [c.id for c in fetch(Nonconformity, nc.id, lambda n: n.complaints).complaints] == [
        complaint.id
    ]

    response = client.post(
        f"/nonconformities/{nc.reference}/complaints/{complaint.reference}/remove"
    )
    assert response.status_code == 302
    assert fetch(Nonconformity, nc.id, lambda n: n.complaints).complaints == []


def test_bad_input_on_the_link_form(client, login, committed, fetch) -> None:
    login("quality_lead")
    nc = _new_nc(committed)
    for data, message in (
        ({"complaint_reference": ""}, "Enter a complaint reference."),
        ({"complaint_reference": "CMP-1999-000001"}, "There is no complaint CMP-1999-000001."),
    ):
        response = client.post(f"/nonconformities/{nc.reference}/complaints", data=data)
        assert response.status_code == 422
        assert "is-invalid" in field_tag(text(response), "complaint_reference")
        assert message in text(response)
    assert fetch(Nonconformity, nc.id, lambda n: n.complaints).complaints == []
    response = client.post(f"/nonconformities/{nc.reference}/complaints/CMP-1999-000001/remove")
    assert response.status_code == 404


def test_non_owners_cannot_link(client, login, committed) -> None:
    login("contributor")
    nc = _new_nc(committed)
    complaint = committed(lambda: make_complaint())
    response = client.post(
        f"/nonconformities/{nc.reference}/complaints",
        data={"complaint_reference": complaint.reference},
    )
    assert response.status_code == 403


def test_export_is_in_the_audit_trail(client, login, committed) -> None:
    login("auditor")
    client.get("/nonconformities/export.csv?status=open").get_data()
    event = committed(
        lambda: db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == AuditAction.EXPORT)
        ).first()
    )
    assert event.record_type == "nonconformity"
    assert "status=open" in json.dumps(event.changes_dict)
