"""SCAR reminders: suppliers (with a fresh link) and owners hear of answers due soon or overdue,
once per due date, through the scheduler's job and the real SMTP test server."""

from __future__ import annotations

from datetime import timedelta

from app.core.db import utcnow
from app.extensions import db
from app.notifications.services import discard_queued_mail
from app.scheduler.models import JobRunStatus
from app.scheduler.runner import run_job
from app.suppliers import scar as scar_services
from tests.scheduler.smtp import smtp_server
from tests.suppliers.helpers import LINK, issue, supplier_with_nc


def test_reminders_go_once_per_due_date_with_a_fresh_link(app, session, monkeypatch) -> None:
    setup = supplier_with_nc()
    setup.lead.email = "owner@example.com"
    scar, first_token = issue(setup, due=utcnow().date() + timedelta(days=2))
    db.session.commit()
    discard_queued_mail(db.session)  # the request's own e-mail is not what this test is about
    with smtp_server() as (inbox, port):
        monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
        monkeypatch.setitem(app.config, "MAIL_PORT", port)
        monkeypatch.setitem(app.config, "LOOP_BASE_URL", "https://qms.example.com")
        now = utcnow()
        first = run_job("scar-reminders", now)
        second = run_job("scar-reminders", now + timedelta(seconds=1))
        # Overdue now: a second kind of reminder, again once.
        scar = db.session.merge(scar)
        scar.due_date = utcnow().date() - timedelta(days=1)
        db.session.commit()
        third = run_job("scar-reminders", now + timedelta(seconds=2))
        fourth = run_job("scar-reminders", now + timedelta(seconds=3))
    assert first.status == JobRunStatus.SUCCEEDED, first.error
    assert first.counts == {"due": 1, "overdue": 0, "already_reminded": 0, "emails_sent": 2}
    assert second.counts == {"due": 0, "overdue": 0, "already_reminded": 1, "emails_sent": 0}
    assert third.counts == {"due": 0, "overdue": 1, "already_reminded": 0, "emails_sent": 2}
    assert fourth.counts == {"due": 0, "overdue": 0, "already_reminded": 1, "emails_sent": 0}
    supplier_mails = [m for m in inbox.messages if m.recipients == [setup.supplier.contact_email]]
    owner_mails = [m for m in inbox.messages if m.recipients == ["owner@example.com"]]
    assert [m.message["Subject"] for m in supplier_mails] == [
        f"{scar.reference}: reminder: answer due",
        f"{scar.reference}: reminder: answer overdue",
    ]
    assert len(owner_mails) == 2
    tokens = [
        LINK.search(m.message.get_payload(decode=True).decode()).group(1) for m in supplier_mails
    ]
    # Only the newest link works.
    for token in (first_token, tokens[0]):
        try:
            scar_services.resolve_link(token)
        except scar_services.LinkRefused as refused:
            assert refused.status == 410
        else:
            raise AssertionError("an older link still works")
    assert scar_services.resolve_link(tokens[1]).scar_id == scar.id
