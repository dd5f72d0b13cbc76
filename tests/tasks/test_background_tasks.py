"""Background tasks: big reports, exports and the audit verification leave the request, run once
on a scheduler, show their progress, offer their file to the one who asked, and are purged."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.core.audit import AuditAction, AuditEvent
from app.core.db import utcnow
from app.core.errors import ServiceError
from app.extensions import db
from app.tasks import services
from app.tasks.models import BackgroundTask, TaskStatus
from tests.reports.conftest import read_pdf
from tests.reports.test_register_and_extract import many_nonconformities


def run_tasks(app) -> list[int]:
    with app.app_context():
        return services.run_due_tasks()


def task_id_of(response) -> int:
    assert response.status_code == 302, response.status_code
    match = re.search(r"/tasks/(\d+)$", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def test_a_big_register_is_made_in_the_background_and_offered_when_ready(
    app, client, login, committed, monkeypatch
):
    monkeypatch.setitem(app.config, "REPORT_SYNC_MAX_ROWS", 5)
    references = committed(many_nonconformities, 8)
    user = login("auditor")
    task_id = task_id_of(client.get("/reports/nonconformity-register.pdf?sort=reference"))

    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "Nonconformity register (8 rows), PDF" in page
    assert 'data-running="yes"' in page and "tasks.js" in page
    status = client.get(f"/tasks/{task_id}/status").get_json()
    assert status["status"] == "queued" and not status["finished"] and not status["has_file"]
    assert client.get(f"/tasks/{task_id}/download").status_code == 404  # nothing yet

    assert run_tasks(app) == [task_id]

    status = client.get(f"/tasks/{task_id}/status").get_json()
    assert status["status"] == "done" and status["percent"] == 100 and status["has_file"]
    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert 'data-running="no"' in page and "Download nonconformity-register-RPT-" in page
    download = client.get(f"/tasks/{task_id}/download")
    assert download.mimetype == "application/pdf"
    pdf = read_pdf(download.data)
    assert re.findall(r"NC-\d{4}-\d{6}", pdf.flat) == sorted(references)
    assert f"{user.full_name} ({user.email}, Auditor)" in pdf.flat
    exports = committed(
        lambda: db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == AuditAction.EXPORT)
        ).all()
    )
    assert [event.actor for event in exports] == [user.email]  # who asked, not the scheduler
    assert run_tasks(app) == []  # run once


def test_a_small_register_is_still_sent_at_once(app, client, login, committed, monkeypatch):
    monkeypatch.setitem(app.config, "REPORT_SYNC_MAX_ROWS", 5)
    committed(many_nonconformities, 5)
    login("auditor")
    response = client.get("/reports/nonconformity-register.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"


def test_a_big_csv_export_runs_in_the_background(app, client, login, committed, monkeypatch):
    monkeypatch.setitem(app.config, "CSV_SYNC_MAX_ROWS", 2)
    references = committed(many_nonconformities, 3)
    login("quality_lead")
    task_id = task_id_of(client.get("/nonconformities/export.csv?sort=reference"))
    run_tasks(app)
    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "The export is ready: 3 rows." in page
    download = client.get(f"/tasks/{task_id}/download")
    assert download.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(download.data.decode("utf-8-sig"))))
    assert rows[0][0] == "Reference"
    assert sorted(row[0] for row in rows[1:]) == sorted(references)


def test_the_complaint_and_capa_exports_go_to_the_background_too(app, client, login, monkeypatch):
    monkeypatch.setitem(app.config, "CSV_SYNC_MAX_ROWS", -1)  # every export, even an empty one
    login("quality_lead")
    for path in ("/complaints/export.csv", "/capa/export.csv"):
        task_id = task_id_of(client.get(path))
        run_tasks(app)
        assert client.get(f"/tasks/{task_id}/status").get_json()["status"] == "done"
        assert client.get(f"/tasks/{task_id}/download").data.startswith("\ufeff".encode())


def test_verifying_a_long_trail_runs_in_the_background(app, client, login, monkeypatch):
    monkeypatch.setitem(app.config, "AUDIT_VERIFY_SYNC_MAX_EVENTS", 1)
    login("auditor")
    task_id = task_id_of(client.get("/audit/verify"))
    run_tasks(app)
    status = client.get(f"/tasks/{task_id}/status").get_json()
    assert status["status"] == "done"
    assert re.match(r"Intact: \d+ events verified\. Head hash", status["message"])
    text = client.get(f"/tasks/{task_id}/download").data.decode()
    assert text.startswith("Intact:") and "First event hash:" in text


def test_a_big_audit_extract_runs_in_the_background(app, client, login, monkeypatch):
    monkeypatch.setitem(app.config, "AUDIT_EXTRACT_SYNC_MAX_EVENTS", 1)
    login("auditor")
    today = utcnow().date().isoformat()
    task_id = task_id_of(client.get(f"/reports/audit-trail.pdf?date_from={today}&date_to={today}"))
    run_tasks(app)
    pdf = read_pdf(client.get(f"/tasks/{task_id}/download").data)
    assert "Audit-trail extract" in pdf.flat


def test_nobody_else_sees_a_task_or_its_file(app, client, login, committed, monkeypatch):
    monkeypatch.setitem(app.config, "CSV_SYNC_MAX_ROWS", -1)
    login("quality_lead")
    task_id = task_id_of(client.get("/nonconformities/export.csv"))
    run_tasks(app)
    client.post("/logout")
    login("quality_lead")
    for suffix in ("", "/status", "/download"):
        assert client.get(f"/tasks/{task_id}{suffix}").status_code == 404
    assert "You have no background tasks" in client.get("/tasks").get_data(as_text=True)


def test_a_failing_task_says_why_and_keeps_nothing(app, session, make_user):
    def refuse(context):
        raise ServiceError("The list's filters are no longer valid; export the list again.")

    services.register_task_kind(services.TaskKind("refusing", "Refusing", refuse))
    user = make_user("quality_lead")
    task = services.enqueue("refusing", {}, user)
    session.commit()
    services.run_due_tasks()
    failed = session.get(BackgroundTask, task.id)
    session.refresh(failed)
    assert failed.status is TaskStatus.FAILED
    assert failed.message == "The list's filters are no longer valid; export the list again."
    assert failed.result_size is None


def test_progress_is_visible_while_the_task_runs(app, session, make_user):
    seen: list[dict] = []

    def counting(context):
        for done in range(3):
            context._last_report = 0.0  # report every step (the meter throttles to 2 per second)
            context.progress(done, 3, "Counting")
            row = db.session.get(BackgroundTask, context.task_id)
            db.session.refresh(row)
            seen.append(services.status_of(row))
        return services.TaskResult("Counted.")

    services.register_task_kind(services.TaskKind("counting", "Counting", counting))
    task = services.enqueue("counting", {}, make_user("quality_lead"))
    session.commit()
    services.run_due_tasks()
    assert [(item["status"], item["percent"], item["step"]) for item in seen] == [
        ("running", 0, "Counting"),
        ("running", 33, "Counting"),
        ("running", 66, "Counting"),
    ]
    done = session.get(BackgroundTask, task.id)
    session.refresh(done)
    assert done.status is TaskStatus.DONE and done.message == "Counted."


def test_finished_tasks_are_purged_after_their_keeping_time(app, session, make_user, monkeypatch):
    from app.scheduler.registry import JobContext
    from app.tasks.jobs import purge_task_results

    services.register_task_kind(
        services.TaskKind(
            "quick", "Quick", lambda context: services.TaskResult("ok", b"x", "x.txt")
        )
    )
    user = make_user("quality_lead")
    old = services.enqueue("quick", {}, user)
    recent = services.enqueue("quick", {}, user)
    waiting = services.enqueue("quick", {}, user)
    session.commit()
    services.run_claimed(services.claim_next())  # old
    services.run_claimed(services.claim_next())  # recent
    now = utcnow()
    for task, finished in ((old, now - timedelta(hours=25)), (recent, now)):
        row = session.get(BackgroundTask, task.id)
        row.expires_at = finished + timedelta(hours=app.config["TASK_RESULT_HOURS"])
    session.commit()
    counts = purge_task_results(JobContext("purge-task-results", {}, now, 0))
    session.commit()
    assert counts == {"tasks_purged": 1}
    left = set(session.scalars(select(BackgroundTask.id)))
    assert left == {recent.id, waiting.id}


def test_a_task_whose_runner_died_is_marked_failed(app, session, make_user):
    from app.scheduler.liveness import runner_id

    services.register_task_kind(
        services.TaskKind("quick", "Quick", lambda context: services.TaskResult("ok"))
    )
    task = services.enqueue("quick", {}, make_user("quality_lead"))
    task.status = TaskStatus.RUNNING
    task.runner = runner_id()  # this process, which is not running it
    task.started_at = utcnow()
    session.commit()
    assert services.abandon_dead_tasks() == [task.id]
    row = session.get(BackgroundTask, task.id)
    session.refresh(row)
    assert row.status is TaskStatus.FAILED and row.message.startswith("Abandoned")


@pytest.fixture()
def committing_app(databases):
    return databases.new_migrated_app()


def test_two_runners_never_run_one_task_twice(committing_app) -> None:
    import threading

    app = committing_app
    runs: list[int] = []
    services.register_task_kind(
        services.TaskKind(
            "once",
            "Once",
            lambda context: runs.append(context.task_id) or services.TaskResult("ok"),
        )
    )
    with app.app_context():
        ids = [services.enqueue("once", {}, None).id for _ in range(6)]
        db.session.commit()
    start = threading.Barrier(3)
    errors: list[BaseException] = []

    def runner() -> None:
        try:
            with app.app_context():
                start.wait(timeout=10)
                services.run_due_tasks()
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=runner) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert sorted(runs) == ids  # every task once, none twice


def test_the_embedded_scheduler_runs_queued_tasks(committing_app) -> None:
    import time

    from app.scheduler.engine import start_embedded

    app = committing_app
    app.config["LOOP_TASK_POLL_SECONDS"] = 0.2
    services.register_task_kind(
        services.TaskKind("quick", "Quick", lambda context: services.TaskResult("ok"))
    )
    with app.app_context():
        task_id = services.enqueue("quick", {}, None).id
        db.session.commit()
    scheduler = start_embedded(app, tick_seconds=3600)
    try:
        deadline = time.monotonic() + 30
        status = None
        while time.monotonic() < deadline:
            with app.app_context():
                status = db.session.get(BackgroundTask, task_id).status
            if status is TaskStatus.DONE:
                break
            time.sleep(0.2)
    finally:
        scheduler.shutdown(wait=True)
    assert status is TaskStatus.DONE


def test_separate_scheduler_processes_run_every_task_exactly_once(databases, tmp_path) -> None:
    """Two `flask … scheduler run` processes: every queued export runs, and runs once (each run
    records one export event)."""
    from tests import factories
    from tests.processes import run_together

    app = databases.new_migrated_app()
    url = app.config["DATABASE_URL"]
    with app.app_context():
        user = factories.create_user("quality_lead")
        params = {"list": "complaints", "rows": 0, "path": "/complaints/export.csv", "args": {}}
        ids = [services.enqueue("csv-export", params, user).id for _ in range(6)]
        db.session.commit()
    env = {"DATABASE_URL": url, "LOOP_INSTANCE_DIR": str(tmp_path), "LOOP_TASK_POLL_SECONDS": "1"}
    command = ["-m", "flask", "--app", "wsgi", "scheduler", "run", "--for", "8"]
    run_together([command] * 2, env, timeout=120)
    with app.app_context():
        tasks = db.session.scalars(select(BackgroundTask).order_by(BackgroundTask.id)).all()
        exports = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == AuditAction.EXPORT)
        ).all()
    assert [task.id for task in tasks] == ids
    assert {task.status for task in tasks} == {TaskStatus.DONE}, [
        (t.status, t.message) for t in tasks
    ]
    assert len(exports) == len(ids)
    assert {event.actor for event in exports} == {user.email}
