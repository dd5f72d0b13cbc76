"""The audit-reminders job reaches lead auditors through a real SMTP server, once per audit and
reminder kind, and in the app."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.audits import services
from app.core.db import utcnow
from app.extensions import db
from app.notifications.models import Notification
from app.scheduler.models import JobRunStatus
from app.scheduler.runner import run_job
from tests.audits import factories as f
from tests.scheduler.smtp import smtp_server


def test_lead_auditors_are_reminded_once_by_e_mail(app, session, monkeypatch) -> None:
    today = utcnow().date()
    lead = f.user("quality_lead")
    soon_lead = f.user(
        "contributor",
        "Sally Soon",
    )
    soon_lead.email = "sally@example.com"
    late_lead = f.user("contributor", "Larry Late")
    late_lead.email = "larry@example.com"
    far_lead = f.user("contributor", "Fred Far")
    f.programme(today.year)
    f.programme(today.year - 1)
    soon = f.audit(soon_lead, start=today + timedelta(days=3), end=today + timedelta(days=4))
    start = today - timedelta(days=40)
    late = f.audit(late_lead, start=start, end=start + timedelta(days=1))
    services.add_checklist(late, f.template().id, user=lead)
    services.transition_audit(late, "prepare", lead)
    services.transition_audit(late, "start", lead)
    # Starting in 30 days: not within the default 7.
    if (today + timedelta(days=30)).year == today.year:
        f.audit(far_lead, start=today + timedelta(days=30), end=today + timedelta(days=31))
    db.session.commit()

    with smtp_server() as (inbox, port):
        monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
        monkeypatch.setitem(app.config, "MAIL_PORT", port)
        now = utcnow()
        first = run_job("audit-reminders", now)
        second = run_job("audit-reminders", now + timedelta(days=1))

    assert first.status == JobRunStatus.SUCCEEDED, first.error
    assert first.counts == {
        "starting_soon": 1,
        "reports_overdue": 1,
        "already_reminded": 0,
        "emails_sent": 2,
    }
    received = sorted(
        (message.recipients[0], message.message["Subject"]) for message in inbox.messages
    )
    assert received == [
        ("larry@example.com", f"Audit report overdue: {late.reference}"),
        ("sally@example.com", f"Audit {soon.reference} starts {soon.planned_start:%Y-%m-%d}"),
    ]
    assert f"/audits/{soon.reference}" in next(
        m.message.get_payload() for m in inbox.messages if m.recipients[0] == "sally@example.com"
    )
    # Once per audit and kind: the next day's run sends nothing new.
    assert second.counts["emails_sent"] == 0
    assert second.counts["already_reminded"] == 2
    notes = list(db.session.scalars(select(Notification).where(Notification.kind.like("audit%"))))
    assert len(notes) == 2 and all(note.emailed_at is not None for note in notes)
