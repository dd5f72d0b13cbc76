"""Archived review packs: the monthly job keeps last month's pack once, and the kept PDF downloads
byte for byte with the hash the Reports page shows."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from app.core.audit import AuditEvent
from app.extensions import db
from app.reports.archive import JOB_NAME
from app.reports.models import ArchivedReport
from app.scheduler.engine import due_slots, run_due_jobs
from app.scheduler.models import JobRun, JobRunStatus, JobTrigger, ScheduledJob
from app.scheduler.registry import job_definition
from app.scheduler.runner import ensure_job_row, run_job
from tests.metrics import dataset
from tests.reports.conftest import read_pdf

SLOT = datetime(2026, 4, 1, 6, 0, tzinfo=UTC)  # 06:00 UTC on the 1st: archives March 2026


@pytest.fixture()
def archive_job(session) -> ScheduledJob:
    """The March 2026 dataset, and the archive job as the only job scheduled, since February."""
    dataset.build()
    job = ensure_job_row(job_definition(JOB_NAME))
    job.schedule_since = datetime(2026, 2, 15, tzinfo=UTC)
    for other in db.session.scalars(select(ScheduledJob).where(ScheduledJob.name != JOB_NAME)):
        other.enabled = False
    db.session.commit()
    db.session.expire_all()  # the dataset's records reload as the database has them (enums)
    return job


def archived() -> list[ArchivedReport]:
    return list(db.session.scalars(select(ArchivedReport).order_by(ArchivedReport.id)))


def test_the_job_is_registered_monthly(archive_job) -> None:
    assert archive_job.cron == "0 6 1 * *"
    assert job_definition(JOB_NAME).actor == "system:archive-review-pack"


def test_the_monthly_slot_archives_last_months_pack_exactly_once(archive_job) -> None:
    now = datetime(2026, 4, 1, 6, 0, 20, tzinfo=UTC)
    assert due_slots(now) == [(JOB_NAME, SLOT)]
    (run,) = run_due_jobs(now)
    assert run.status == JobRunStatus.SUCCEEDED, run.error
    assert run.counts["archived"] == 1 and run.counts["pages"] >= 2
    assert run_due_jobs(now) == []  # the slot is taken
    assert run_job(JOB_NAME, SLOT) is None  # another scheduler claiming the same slot
    (pack,) = archived()
    assert (pack.period_start, pack.period_end) == (date(2026, 3, 1), date(2026, 3, 31))
    assert pack.kind == "quality_review" and pack.job_run_id == run.id
    assert pack.file_sha256 == hashlib.sha256(pack.pdf).hexdigest()
    assert pack.size_bytes == len(pack.pdf)
    assert pack.generated_by.startswith("system:archive-review-pack")
    pdf = read_pdf(pack.pdf)
    assert "Quality review pack 2026-03-01 to 2026-03-31" in pdf.flat
    assert f"Report id {pack.report_id}" in pdf.flat
    assert hashlib.sha256(pdf.attachment()[1]).hexdigest() == pack.data_sha256
    assert {kpi["key"]: kpi["value"] for kpi in pdf.data()["kpis"]}["complaints"] == 6  # c1–c5, c7
    # The job acted as itself: the export and the archive row are in the audit trail.
    events = list(
        db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.record_type.in_(["quality_review", "archived_report"])
            )
        )
    )
    assert {(event.record_type, str(event.action)) for event in events} == {
        ("quality_review", "export"),
        ("archived_report", "create"),
    }
    assert {event.actor for event in events} == {"system:archive-review-pack"}
    created = next(event for event in events if event.record_type == "archived_report")
    assert "pdf" not in created.changes_dict
    assert created.changes_dict["file_sha256"][1] == pack.file_sha256


def test_a_second_run_for_an_archived_month_keeps_the_first(archive_job) -> None:
    first = run_job(JOB_NAME, SLOT)
    manual = run_job(JOB_NAME, datetime(2026, 4, 20, 9, 30, tzinfo=UTC), JobTrigger.MANUAL)
    assert first is not None and manual is not None
    assert manual.status == JobRunStatus.SUCCEEDED
    assert manual.counts == {"archived": 0, "already_archived": 1, "emails_sent": 0}
    assert len(archived()) == 1
    assert db.session.scalar(select(func.count()).select_from(JobRun)) == 2


def test_the_archived_pack_downloads_with_the_hash_the_page_shows(
    app, client, login, committed
) -> None:
    def archive() -> dict[str, object]:
        dataset.build()
        db.session.commit()
        db.session.expire_all()  # the dataset's records reload as the database has them (enums)
        run = run_job(JOB_NAME, SLOT)
        assert run is not None and run.status == JobRunStatus.SUCCEEDED, run and run.error
        pack = db.session.scalar(select(ArchivedReport))
        return {"id": pack.id, "sha": pack.file_sha256, "report_id": pack.report_id}

    stored = committed(archive)
    login("auditor")
    page = client.get("/reports").get_data(as_text=True)
    assert "2026-03-01 to 2026-03-31" in page
    assert stored["sha"] in page and stored["report_id"] in page
    link = f"/reports/archive/{stored['id']}.pdf"
    assert f'href="{link}"' in page
    response = client.get(link)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert hashlib.sha256(response.data).hexdigest() == stored["sha"]
    assert re.search(
        r'filename="quality-review-2026-03-01-2026-03-31-RPT-[\w-]+\.pdf"',
        response.headers["Content-Disposition"],
    )
    event = committed(
        lambda: db.session.scalar(
            select(AuditEvent)
            .where(AuditEvent.record_type == "archived_report")
            .order_by(AuditEvent.id.desc())
        )
    )
    assert str(event.action) == "export" and event.record_id == str(stored["id"])
    assert client.get("/reports/archive/999999.pdf").status_code == 404
