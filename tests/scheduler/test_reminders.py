"""Reminders reach the owners through a real SMTP server, once a day per item, and in the app."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.capa import effectiveness as capa_effectiveness
from app.capa import services
from app.capa import training as capa_training
from app.core.db import utcnow
from app.extensions import db
from app.notifications.models import Notification
from app.scheduler.models import JobRunStatus
from app.scheduler.runner import run_job
from tests import factories as users
from tests.capa.factories import plan
from tests.scheduler.smtp import smtp_server


@pytest.fixture()
def overdue(session):
    """An overdue CAPA (owner A), an overdue manual check on B's CAPA, an overdue training for C,
    and, not overdue, D's CAPA due tomorrow."""
    lead = users.create_user("quality_lead", email="lead@example.com")
    a = users.create_user("contributor", email="alice@example.com")
    b = users.create_user("contributor", email="bob@example.com")
    c = users.create_user("contributor", email="carol@example.com")
    d = users.create_user("contributor", email="dave@example.com")
    yesterday = services.today_utc() - timedelta(days=1)
    late = plan(a, title="Late action")
    late.due_date = yesterday
    checked = plan(b, title="Checked action")
    check = capa_effectiveness.plan_effectiveness_check(
        checked,
        criterion="No repeats",
        method="manual_review",
        window_days=None,
        due_date=services.today_utc() + timedelta(days=5),
        user=lead,
    )
    check.due_date = yesterday
    trained = plan(lead, title="Trained action")
    training = capa_training.assign_training(
        trained,
        staff_id=c.id,
        topic="Refund rules",
        due_date=services.today_utc() + timedelta(days=5),
        user=lead,
    )
    training.due_date = yesterday
    plan(d, title="On time")
    db.session.commit()
    return {"late": late, "checked": checked, "check": check, "trained": trained}


def test_reminders_reach_the_owners_by_e_mail_once_a_day(app, overdue, monkeypatch):
    with smtp_server() as (inbox, port):
        monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
        monkeypatch.setitem(app.config, "MAIL_PORT", port)
        now = utcnow()
        first = run_job("overdue-reminders", now)
        second = run_job("overdue-reminders", now + timedelta(seconds=1))

    assert first.status == JobRunStatus.SUCCEEDED, first.error
    assert first.counts == {
        "capas": 1,
        "checks": 1,
        "trainings": 1,
        "already_reminded_today": 0,
        "emails_sent": 3,
    }
    received = sorted(
        (message.recipients[0], message.message["Subject"]) for message in inbox.messages
    )
    late, checked = overdue["late"], overdue["checked"]
    assert received == [
        ("alice@example.com", f"Overdue: {late.reference} was due {late.due_date:%Y-%m-%d}"),
        ("bob@example.com", f"Effectiveness check overdue on {checked.reference}"),
        ("carol@example.com", "Training overdue: Refund rules"),
    ]
    assert all(message.sender == "loop-qms@localhost" for message in inbox.messages)
    body = inbox.messages[0].message.get_payload()
    assert "/capa/" in body
    # The second run the same day sends nothing new.
    assert second.counts["emails_sent"] == 0
    assert second.counts["already_reminded_today"] == 3
    notes = list(db.session.scalars(select(Notification).order_by(Notification.id)))
    assert len(notes) == 3 and all(note.emailed_at is not None for note in notes)


def test_the_next_day_reminds_again(app, overdue):
    today = utcnow()
    assert run_job("overdue-reminders", today).counts["capas"] == 1
    assert run_job("overdue-reminders", today + timedelta(days=1)).counts["capas"] == 1


def test_without_a_mail_server_reminders_are_in_app_only(app, overdue, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "")
    run = run_job("overdue-reminders", utcnow())
    assert run.counts["emails_sent"] == 0 and run.counts["capas"] == 1
    note = db.session.scalar(select(Notification).where(Notification.kind == "capa_overdue"))
    assert note.emailed_at is None


def test_done_work_is_not_reminded(app, overdue):
    from app.capa.models import CheckResult

    overdue["check"].result = CheckResult.PASSED
    overdue["check"].evidence = "Checked"
    for training in overdue["trained"].trainings:
        training.completed_at = utcnow()
    db.session.commit()
    assert run_job("overdue-reminders", utcnow()).counts == {
        "capas": 1,
        "checks": 0,
        "trainings": 0,
        "already_reminded_today": 0,
        "emails_sent": 0,
    }


def test_an_unreachable_mail_server_keeps_the_in_app_reminders(app, overdue, monkeypatch):
    from tests.scheduler.smtp import free_port

    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())  # nobody listens there
    run = run_job("overdue-reminders", utcnow())
    assert run.status == JobRunStatus.SUCCEEDED
    assert run.error.startswith("E-mail could not be sent")
    assert db.session.scalar(select(Notification).where(Notification.kind == "capa_overdue"))
