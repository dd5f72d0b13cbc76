"""What people see: the scheduler's admin page, the notifications page with its unread count, and
the recurrence flag on a CAPA's page."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from app.capa.models import CapaStatus
from app.core.audit import AuditEvent
from app.core.db import utcnow
from app.extensions import db
from app.notifications.models import Notification
from app.notifications.services import notify
from app.scheduler.models import (
    CapaRecurrenceFlag,
    JobRun,
    JobRunStatus,
    JobTrigger,
    RecurrenceSignal,
    ScheduledJob,
)
from tests.capa.factories import make_category, make_nonconformity, make_process, plan

JOB = "/admin/scheduler/recurring-failure-review"


def text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def test_the_admin_page_lists_the_jobs_with_their_schedules(client, login):
    login("admin")
    page = text(client.get("/admin/scheduler"))
    for title, cron in [
        ("Recurring-failure review", "0 5 * * *"),
        ("Overdue reminders", "0 7 * * *"),
        ("Automatic effectiveness checks", "30 5 * * *"),
    ]:
        assert title in page and f"<code>{cron}</code>" in page


def test_run_now_runs_the_job_and_the_history_shows_it(client, login, committed):
    admin = login("admin")
    response = client.post(f"{JOB}/run", data={"confirm": "run"})
    assert response.status_code == 302
    page = text(client.get(JOB))
    assert "Recurring-failure review ran: " in page
    assert "nonconformities opened 0" in page.split("ran: ")[1].split("</div>")[0]
    history = page.split('data-testid="run-history"')[1]
    assert "Succeeded" in history and f"Manual by {admin.full_name}" in history
    assert "nonconformities opened: 0" in history


def test_a_failed_run_shows_its_error(client, login, committed):
    login("quality_lead")

    def failed_run() -> None:
        db.session.add(
            JobRun(
                job_name="overdue-reminders",
                scheduled_for=utcnow() - timedelta(hours=1),
                trigger=JobTrigger.SCHEDULE,
                status=JobRunStatus.FAILED,
                started_at=utcnow() - timedelta(hours=1),
                finished_at=utcnow() - timedelta(hours=1),
                counts_json="{}",
                error="OperationalError: the database went away\n\ntraceback…",
                runner="host:1",
            )
        )

    committed(failed_run)
    page = text(client.get("/admin/scheduler/overdue-reminders"))
    assert "Failed" in page and "OperationalError: the database went away" in page
    assert "Run now" not in page  # leads read the page; only administrators act on it


def test_an_admin_sets_the_schedule_thresholds_and_switch(client, login, committed):
    login("admin")
    client.get(JOB)
    data = {
        "cron": "15 6 * * mon",
        "fingerprint": "category",
        "window_days": "14",
        "window_threshold": "12",
        "baseline_weeks": "20",
        "review_weeks": "10",
        "min_weekly_count": "3",
        "window_basis": "share",
        "window_share_percent": "25",
    }  # "enabled" unticked: off
    response = client.post(f"{JOB}/settings", data=data)
    assert response.status_code == 302
    job = committed(
        lambda: db.session.scalar(
            select(ScheduledJob).where(ScheduledJob.name == "recurring-failure-review")
        )
    )
    assert (job.cron, job.enabled) == ("15 6 * * mon", False)
    assert job.settings == {
        "fingerprint": "category",
        "window_days": 14,
        "window_threshold": 12,
        "baseline_weeks": 20,
        "review_weeks": 10,
        "min_weekly_count": 3,
        "window_basis": "share",
        "window_share_percent": 25,
    }
    page = text(client.get("/admin/scheduler"))
    assert "<code>15 6 * * mon</code>" in page and "Off" in page
    actor = committed(
        lambda: db.session.scalar(
            select(AuditEvent.actor)
            .where(AuditEvent.record_type == "scheduled_job", AuditEvent.action == "update")
            .order_by(AuditEvent.id.desc())
        )
    )
    assert actor.endswith("@example.com")  # the change is the admin's, in the trail


def test_bad_settings_come_back_with_field_errors_and_save_nothing(client, login, committed):
    login("admin")
    client.get(JOB)
    data = {
        "cron": "0 5 * *",
        "enabled": "y",
        "fingerprint": "colour",
        "window_days": "0",
        "window_threshold": "5",
        "baseline_weeks": "26",
        "review_weeks": "8",
        "min_weekly_count": "5",
        "window_basis": "count",
        "window_share_percent": "20",
    }
    response = client.post(f"{JOB}/settings", data=data)
    assert response.status_code == 422
    page = text(response)
    assert "Not a valid choice" in page
    data["fingerprint"] = "process"
    response = client.post(f"{JOB}/settings", data=data)
    assert response.status_code == 422
    assert "A schedule has five fields" in text(response)
    data["cron"] = "0 5 * * *"
    response = client.post(f"{JOB}/settings", data=data)
    assert response.status_code == 422
    assert "Rolling window (days) must be at least 1." in text(response)
    data.update(window_days="30", window_basis="share", window_share_percent="0")
    response = client.post(f"{JOB}/settings", data=data)
    assert response.status_code == 422
    assert "Share threshold (%) must be at least 1." in text(response)
    job = committed(
        lambda: db.session.scalar(
            select(ScheduledJob).where(ScheduledJob.name == "recurring-failure-review")
        )
    )
    assert job.settings == {}


def test_notifications_show_an_unread_count_and_can_be_read(client, login, committed):
    user = login("contributor")
    committed(lambda: db.session.get(type(user), user.id))

    def two_notes() -> list[int]:
        owner = db.session.get(type(user), user.id)
        first = notify(owner, kind="t", subject="Overdue: CAPA-1", link="/capa/CAPA-1", email=False)
        second = notify(owner, kind="t", subject="Training overdue", email=False)
        return [first.id, second.id]

    first_id, _ = committed(two_notes)
    page = text(client.get("/notifications"))
    assert re.search(r'data-testid="unread-count">2<', page)
    assert "Overdue: CAPA-1" in page and "Training overdue" in page
    response = client.post(f"/notifications/{first_id}/read", data={"open": "1"})
    assert response.headers["Location"] == "/capa/CAPA-1"
    assert re.search(r'data-testid="unread-count">1<', text(client.get("/notifications")))
    client.post("/notifications/read-all")
    assert 'data-testid="unread-count"' not in text(client.get("/notifications"))
    assert committed(
        lambda: db.session.scalar(select(Notification.read_at).where(Notification.id == first_id))
    )


def test_the_capa_page_flags_a_recurrence_after_verification(client, login, committed):
    lead = login("quality_lead")

    def flagged() -> str:
        process, category = make_process("Billing"), make_category("Double charge")
        nc = make_nonconformity(process=process, category=category)
        capa = plan(lead, nonconformity_ids=[nc.id])
        capa.status = CapaStatus.EFFECTIVE
        review_nc = make_nonconformity(process=process, category=category, title="Recurring")
        signal = RecurrenceSignal(
            fingerprint="process_category:process=1;category=1",
            rules="window_threshold",
            nonconformity_id=review_nc.id,
            window_start=utcnow() - timedelta(days=30),
            window_end=utcnow(),
            record_count=9,
            details="",
        )
        db.session.add(signal)
        db.session.flush()
        db.session.add(
            CapaRecurrenceFlag(
                capa_id=capa.id,
                signal_id=signal.id,
                verified_at=utcnow() - timedelta(days=10),
                records_since_verified=4,
            )
        )
        return f"{capa.reference} {review_nc.reference}"

    capa_ref, nc_ref = committed(flagged).split()
    page = text(client.get(f"/capa/{capa_ref}"))
    assert "The failure recurred after this CAPA was verified effective" in page
    assert "4 new record(s) since the verification" in page and nc_ref in page


def test_the_embedded_scheduler_starts_only_under_flask_run(app):
    import click

    from app.scheduler.engine import should_embed

    # The testing configuration never embeds it.
    assert app.config["LOOP_SCHEDULER"] == "off"
    assert should_embed(app) is False

    class EmbeddedApp:
        config = {**app.config, "LOOP_SCHEDULER": "embedded", "TESTING": False}

    seen: dict[str, bool] = {}

    def probe() -> None:
        context = click.get_current_context()
        seen[f"{context.parent.info_name} {context.info_name}"] = should_embed(EmbeddedApp())

    @click.group("flask")
    def flask() -> None: ...

    @click.group("scheduler")
    def scheduler() -> None: ...

    @click.group("db")
    def database() -> None: ...

    for group, name in ((flask, "run"), (scheduler, "run"), (database, "upgrade")):
        group.command(name)(
            click.option("--reload/--no-reload", default=None)(lambda reload: probe())
        )
    flask.add_command(scheduler)
    flask.add_command(database)
    for args in (["run", "--no-reload"], ["scheduler", "run"], ["db", "upgrade"]):
        flask.main(args, prog_name="flask", standalone_mode=False)
    assert seen == {"flask run": True, "scheduler run": False, "db upgrade": False}
    # With the reloader, only its child (the serving process) embeds it, not the watcher.
    flask.main(["run", "--reload"], prog_name="flask", standalone_mode=False)
    assert seen["flask run"] is False
