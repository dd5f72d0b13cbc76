"""A SCAR's round trip through the real SMTP test server: the lead sends it, the supplier opens
the e-mailed link and answers, the lead returns it (fresh link) and then accepts it, which puts
the supplier's root cause and a corrective CAPA on the nonconformity's chain."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.capa.models import CapaKind
from app.core.db import utcnow
from app.extensions import db
from app.nonconformities.models import Nonconformity
from app.suppliers.models import Scar, ScarStatus
from app.suppliers.services import attribute, create_supplier
from tests.scheduler.smtp import smtp_server
from tests.suppliers.helpers import ANSWER, LINK, raise_nc


def _mails_to(inbox, address):
    return [m for m in inbox.messages if address in m.recipients]


def test_a_scar_goes_to_the_supplier_and_comes_back_into_the_capa_chain(
    app, client, login, committed, monkeypatch
) -> None:
    lead = login("quality_lead")

    def prepare():
        from app.accounts.models import User

        user = db.session.get(User, lead.id)
        supplier = create_supplier(
            name="Brightline Packaging", contact_email="qa@brightline.example", user=user
        )
        nc = raise_nc(user, title="Crushed cartons")
        attribute(supplier, "nonconformity", nc.reference, user=user)
        return supplier.id, nc.reference, nc.id

    supplier_id, nc_reference, nc_id = committed(prepare)
    due = (utcnow().date() + timedelta(days=10)).isoformat()
    with smtp_server() as (inbox, port):
        monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
        monkeypatch.setitem(app.config, "MAIL_PORT", port)
        monkeypatch.setitem(app.config, "LOOP_BASE_URL", "https://qms.example.com")
        sent = client.post(
            f"/suppliers/{supplier_id}/scars/new",
            data={
                "nonconformity": nc_reference,
                "problem": "Cartons of order 991 arrived crushed.",
                "due_date": due,
                "owner_id": lead.id,
            },
        )
        assert sent.status_code == 302, sent.get_data(as_text=True)
        reference = sent.headers["Location"].rsplit("/", 1)[1]
        [request_mail] = _mails_to(inbox, "qa@brightline.example")
        body = request_mail.message.get_payload(decode=True).decode()
        assert request_mail.message["Subject"] == f"{reference}: corrective action request"
        assert "Cartons of order 991 arrived crushed." in body
        first_token = LINK.search(body).group(1)
        assert f"https://qms.example.com/supplier-response/{first_token}" in body
        # Only the hash is stored.
        stored = committed(lambda: [link.token_hash for link in _scar(reference).links])
        assert first_token not in stored

        supplier_client = app.test_client()
        assert supplier_client.get(f"/supplier-response/{first_token}").status_code == 200
        answered = supplier_client.post(f"/supplier-response/{first_token}", data=ANSWER)
        assert answered.status_code == 200
        assert committed(lambda: _scar(reference).status) == ScarStatus.ANSWERED

        # Returned with comments: the supplier gets a fresh link; the used one stays dead.
        version = committed(lambda: _scar(reference).version)
        returned = client.post(
            f"/suppliers/scars/{reference}/review",
            data={
                "version": version,
                "decision": "return",
                "comments": "Show the SPC chart for press 3.",
            },
        )
        assert returned.status_code == 302, returned.get_data(as_text=True)
        returned_mail = _mails_to(inbox, "qa@brightline.example")[-1]
        assert returned_mail.message["Subject"] == f"{reference}: answer returned"
        second_token = LINK.search(returned_mail.message.get_payload(decode=True).decode()).group(1)
        assert second_token != first_token
        assert supplier_client.get(f"/supplier-response/{first_token}").status_code == 410
        page = supplier_client.get(f"/supplier-response/{second_token}").get_data(as_text=True)
        assert "Show the SPC chart for press 3." in page
        assert ANSWER["containment"] in page  # they revise what they sent
        revised = {**ANSWER, "verification": "SPC chart attached: Cpk 1.6 over 30 days."}
        assert (
            supplier_client.post(f"/supplier-response/{second_token}", data=revised).status_code
            == 200
        )

        version = committed(lambda: _scar(reference).version)
        accepted = client.post(
            f"/suppliers/scars/{reference}/review",
            data={
                "version": version,
                "decision": "accept",
                "comments": "Thank you.",
                "capa_due_date": (utcnow().date() + timedelta(days=30)).isoformat(),
                "principle_ids": ["6"],
            },
        )
        assert accepted.status_code == 302, accepted.get_data(as_text=True)
        accepted_mail = _mails_to(inbox, "qa@brightline.example")[-1]
        assert accepted_mail.message["Subject"] == f"{reference}: answer accepted"
        assert "/supplier-response/" not in accepted_mail.message.get_payload(decode=True).decode()
        assert len(_mails_to(inbox, "qa@brightline.example")) == 3

    def chain():
        scar = _scar(reference)
        capa = scar.capa
        nc = db.session.get(Nonconformity, nc_id)
        return (
            scar.status,
            scar.first_answered_at < scar.answered_at,
            capa.kind,
            [n.reference for n in capa.nonconformities],
            [rc.statement for rc in capa.root_causes],
            [c.reference for c in nc.capas],
        )

    status, revised_later, kind, capa_ncs, root_causes, nc_capas = committed(chain)
    assert status == ScarStatus.ACCEPTED
    assert revised_later
    assert kind == CapaKind.CORRECTIVE
    assert capa_ncs == [nc_reference]
    assert root_causes == [f"Brightline Packaging: {ANSWER['root_cause']}"]
    assert len(nc_capas) == 1
    # Accepted: the link is dead, and the nonconformity's page names the supplier and the SCAR.
    assert app.test_client().get(f"/supplier-response/{second_token}").status_code == 410
    nc_page = client.get(f"/nonconformities/{nc_reference}").get_data(as_text=True)
    assert "Brightline Packaging" in nc_page and reference in nc_page


def _scar(reference: str) -> Scar:
    return db.session.scalars(select(Scar).where(Scar.reference == reference)).one()


def test_a_scar_to_a_supplier_without_e_mail_is_refused_and_nothing_is_written(
    client, login, committed, count
) -> None:
    lead = login("quality_lead")

    def prepare():
        from app.accounts.models import User

        user = db.session.get(User, lead.id)
        supplier = create_supplier(name="Silent Supplies", user=user)
        nc = raise_nc(user)
        attribute(supplier, "nonconformity", nc.reference, user=user)
        return supplier.id, nc.reference

    supplier_id, nc_reference = committed(prepare)
    before = count(Scar)
    response = client.post(
        f"/suppliers/{supplier_id}/scars/new",
        data={
            "nonconformity": nc_reference,
            "problem": "Late deliveries.",
            "due_date": (utcnow().date() + timedelta(days=7)).isoformat(),
            "owner_id": lead.id,
        },
    )
    assert response.status_code == 422
    assert "Silent Supplies has no contact e-mail" in response.get_data(as_text=True)
    assert count(Scar) == before


def test_a_bad_or_stale_review_is_refused_and_changes_nothing(
    client, login, committed, count
) -> None:
    from app.capa.models import Capa
    from app.suppliers import scar as scar_services
    from tests.suppliers.helpers import issue, supplier_with_nc

    login("quality_lead")

    def prepare():
        setup = supplier_with_nc()
        scar, token = issue(setup)
        scar_services.record_supplier_answer(
            scar_services.resolve_link(token), scar_services.SupplierAnswer(**ANSWER)
        )
        return scar.reference, scar.version

    reference, version = committed(prepare)
    capas = count(Capa)
    cases = [
        ({"decision": "accept", "version": version}, "The CAPA&#39;s due date is required."),
        ({"decision": "return", "version": version}, "Comments for the supplier is required."),
        (
            {
                "decision": "accept",
                "version": version - 1,
                "capa_due_date": (utcnow().date() + timedelta(days=30)).isoformat(),
                "principle_ids": ["6"],
            },
            f"The SCAR {reference} was changed by someone else since you opened it.",
        ),
    ]
    for data, message in cases:
        response = client.post(f"/suppliers/scars/{reference}/review", data=data)
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
    assert committed(lambda: _scar(reference).status) == ScarStatus.ANSWERED
    assert count(Capa) == capas


def test_without_a_mail_server_the_lead_is_shown_the_link_once(
    app, client, login, committed
) -> None:
    lead = login("quality_lead")

    def prepare():
        from app.accounts.models import User

        user = db.session.get(User, lead.id)
        supplier = create_supplier(name="Offline Parts", contact_email="qa@offline.example")
        nc = raise_nc(user)
        attribute(supplier, "nonconformity", nc.reference, user=user)
        return supplier.id, nc.reference

    supplier_id, nc_reference = committed(prepare)
    assert not app.config["MAIL_SERVER"]
    response = client.post(
        f"/suppliers/{supplier_id}/scars/new",
        data={
            "nonconformity": nc_reference,
            "problem": "Late deliveries.",
            "due_date": (utcnow().date() + timedelta(days=7)).isoformat(),
            "owner_id": lead.id,
        },
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "No mail server is configured" in page
    token = LINK.search(page).group(1)
    assert app.test_client().get(f"/supplier-response/{token}").status_code == 200
    # Shown only once: the SCAR's page never shows it again.
    reference = response.request.path.rsplit("/", 1)[1]
    assert token not in client.get(f"/suppliers/scars/{reference}").get_data(as_text=True)
