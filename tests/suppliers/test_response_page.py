"""The supplier's response page: the one page open without an account. Wrong, expired, revoked
and reused links are refused; the page shows that SCAR and nothing else; the answer is audited
as the supplier with the request's address; the page is rate-limited and CSRF-protected."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.core.audit import AuditEvent
from app.core.db import utcnow
from app.extensions import db
from app.suppliers.models import Scar, ScarLink, ScarStatus
from tests.suppliers.helpers import ANSWER, issue, supplier_with_nc


def _scar(committed, **setup_args):
    def make():
        setup = supplier_with_nc(**setup_args)
        scar, token = issue(setup)
        return scar.id, scar.reference, token, setup.nc.reference

    return committed(make)


def test_a_wrong_token_is_404_and_shows_nothing(client, committed) -> None:
    _scar(committed)
    response = client.get("/supplier-response/" + "x" * 43)
    assert response.status_code == 404
    assert "not valid" in response.get_data(as_text=True)


def test_the_page_shows_that_scar_and_nothing_of_the_company_beyond_it(client, committed) -> None:
    _scar_id, reference, token, nc_reference = _scar(committed)
    response = client.get(f"/supplier-response/{token}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert reference in page and "Housings of lot 4711 crack when fitted." in page
    assert "Acme Parts" in page
    # Nothing of ours beyond the SCAR: not the nonconformity, its internal title, the owner, the
    # navigation or any link into the application.
    for secret in (nc_reference, "Secret internal title", "Quinn Lead", "Dashboard", "Sign out"):
        assert secret not in page
    assert 'href="/' not in page.replace('href="/static/', "")
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"


def test_the_answer_is_audited_as_the_supplier_and_the_link_cannot_be_reused(
    client, committed
) -> None:
    scar_id, _reference, token, _ = _scar(committed)
    response = client.post(f"/supplier-response/{token}", data=ANSWER)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "Thank you" in response.get_data(as_text=True)

    def read():
        scar = db.session.get(Scar, scar_id)
        events = db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.record_type == "scar", AuditEvent.record_id == str(scar_id)
            )
        ).all()
        return (
            scar.status,
            scar.root_cause,
            scar.first_answered_at,
            [(event.actor, event.remote_addr) for event in events],
        )

    status, root_cause, first_answered_at, actors = committed(read)
    assert status == ScarStatus.ANSWERED
    assert root_cause == ANSWER["root_cause"]
    assert first_answered_at is not None
    assert ("supplier:Acme Parts", "127.0.0.1") in actors

    again = client.get(f"/supplier-response/{token}")
    assert again.status_code == 410
    assert "already been used" in again.get_data(as_text=True)
    resubmitted = client.post(f"/supplier-response/{token}", data=ANSWER)
    assert resubmitted.status_code == 410


def test_an_expired_link_is_refused(client, committed) -> None:
    scar_id, _, token, _ = _scar(committed)

    def expire():
        link = db.session.scalars(select(ScarLink).where(ScarLink.scar_id == scar_id)).one()
        link.created_at = utcnow() - timedelta(days=31)
        link.expires_at = utcnow() - timedelta(minutes=1)

    committed(expire)
    response = client.get(f"/supplier-response/{token}")
    assert response.status_code == 410
    assert "expired" in response.get_data(as_text=True)
    assert client.post(f"/supplier-response/{token}", data=ANSWER).status_code == 410
    assert committed(lambda: db.session.get(Scar, scar_id).status) == ScarStatus.AWAITING_RESPONSE


def test_a_revoked_link_is_refused(client, login, committed) -> None:
    _scar_id, reference, token, _ = _scar(committed)
    login("quality_lead")
    revoked = client.post(f"/suppliers/scars/{reference}/link", data={"action": "revoke"})
    assert revoked.status_code == 302
    client.post("/logout")
    response = client.get(f"/supplier-response/{token}")
    assert response.status_code == 410
    assert "withdrawn" in response.get_data(as_text=True)


def test_an_incomplete_answer_comes_back_with_errors_and_changes_nothing(client, committed) -> None:
    scar_id, _, token, _ = _scar(committed)
    response = client.post(f"/supplier-response/{token}", data={**ANSWER, "root_cause": "  "})
    assert response.status_code == 422
    assert "root cause is required." in response.get_data(as_text=True).lower()
    assert committed(lambda: db.session.get(Scar, scar_id).status) == ScarStatus.AWAITING_RESPONSE
    # The link still works: nothing was spent.
    assert client.get(f"/supplier-response/{token}").status_code == 200


def test_too_many_wrong_links_from_one_address_are_rate_limited(
    app, client, committed, monkeypatch
) -> None:
    _, _, token, _ = _scar(committed)
    monkeypatch.setitem(app.config, "LOGIN_IP_LIMIT", 3)
    for attempt in range(3):
        assert client.get(f"/supplier-response/wrong-{attempt}").status_code == 404
    # Even the right link is refused now, like the sign-in page refuses a right password.
    limited = client.get(f"/supplier-response/{token}")
    assert limited.status_code == 429
    assert "Too many attempts" in limited.get_data(as_text=True)


def test_the_form_is_csrf_protected(databases) -> None:
    app = databases.new_migrated_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        setup = supplier_with_nc()
        _, token = issue(setup)
        db.session.commit()
    client = app.test_client()
    assert client.post(f"/supplier-response/{token}", data=ANSWER).status_code == 400
    page = client.get(f"/supplier-response/{token}")
    assert 'name="csrf_token"' in page.get_data(as_text=True)
    with app.app_context():
        db.session.remove()
        app.extensions["loop_db"].engine.dispose()


def test_the_supplier_attaches_evidence_with_the_answer(client, committed) -> None:
    import io

    from app.attachments.models import Attachment

    scar_id, _, token, _ = _scar(committed)
    refused = client.post(
        f"/supplier-response/{token}",
        data={**ANSWER, "files": [(io.BytesIO(b""), "empty.txt")]},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
    assert "“empty.txt” is empty." in refused.get_data(as_text=True)
    assert committed(lambda: db.session.get(Scar, scar_id).status) == ScarStatus.AWAITING_RESPONSE

    answered = client.post(
        f"/supplier-response/{token}",
        data={**ANSWER, "files": [(io.BytesIO(b"Lot 4711: 0 cracks in 200.\n"), "report.txt")]},
        content_type="multipart/form-data",
    )
    assert answered.status_code == 200, answered.get_data(as_text=True)

    def read():
        files = db.session.scalars(
            select(Attachment).where(
                Attachment.record_type == "scar", Attachment.record_id == str(scar_id)
            )
        ).all()
        events = db.session.scalars(
            select(AuditEvent.actor).where(
                AuditEvent.record_type == "scar", AuditEvent.record_id == str(scar_id)
            )
        ).all()
        return [(f.filename, f.uploaded_by_id) for f in files], events

    files, actors = committed(read)
    assert files == [("report.txt", None)]
    assert actors.count("supplier:Acme Parts") >= 2  # the answer and the file
