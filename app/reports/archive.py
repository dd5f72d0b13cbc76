"""Archived review packs: every month the scheduler renders the previous month's quality review
pack and keeps it (table `archived_report`, the PDF bytes with their SHA-256), listed on the
Reports page.

The job `archive-review-pack` (default `0 6 1 * *`, 06:00 UTC on the 1st) acts as
`system:archive-review-pack`; the scheduler runs it once per slot (see app.scheduler.runner). One
pack is kept per month: a second run for a month that is archived already ("Run now" after the
scheduled run) keeps the first and reports `already_archived`.
"""

from __future__ import annotations

import hashlib

from flask import current_app
from sqlalchemy import select

from app.core.audit import AuditAction, record_event
from app.extensions import db
from app.reports.models import ArchivedReport
from app.scheduler.registry import JobContext, JobDefinition, register_job
from reports import generate_report
from reports.quality_review import ReviewPeriod, gather_quality_review, month_before

KIND_QUALITY_REVIEW = "quality_review"
JOB_NAME = "archive-review-pack"


def archived_pack(period: ReviewPeriod) -> ArchivedReport | None:
    return db.session.scalar(
        select(ArchivedReport).where(
            ArchivedReport.kind == KIND_QUALITY_REVIEW,
            ArchivedReport.period_start == period.first,
            ArchivedReport.period_end == period.last,
        )
    )


def archive_review_pack(
    period: ReviewPeriod,
    *,
    generated_by: str,
    job_run_id: int | None = None,
) -> ArchivedReport | None:
    """Render the quality review pack of `period` and keep it; None when that period is archived
    already (nothing is written then). Writes the report's `export` event and the archive row's
    `create` event in the session's transaction (the caller commits)."""
    if archived_pack(period) is not None:
        return None
    report = gather_quality_review(period)
    generated = generate_report(
        db.session,
        report,
        generated_by=generated_by,
        organisation=current_app.config["ORG_NAME"],
    )
    archived = ArchivedReport(
        kind=KIND_QUALITY_REVIEW,
        title=report.title,
        period_start=period.first,
        period_end=period.last,
        report_id=generated.report_id,
        filename=generated.filename,
        data_sha256=generated.data_sha256,
        file_sha256=hashlib.sha256(generated.pdf).hexdigest(),
        pages=generated.pages,
        size_bytes=len(generated.pdf),
        generated_by=generated_by,
        created_at=generated.generated_at,
        job_run_id=job_run_id,
        pdf=generated.pdf,
    )
    db.session.add(archived)
    db.session.flush()
    return archived


def archived_packs() -> list[ArchivedReport]:
    """Every archived review pack, newest period first (without the PDF bytes)."""
    return list(
        db.session.scalars(
            select(ArchivedReport)
            .where(ArchivedReport.kind == KIND_QUALITY_REVIEW)
            .order_by(ArchivedReport.period_start.desc(), ArchivedReport.id.desc())
        )
    )


def download_archived(archived_id: int) -> ArchivedReport | None:
    """The archived report with its PDF, its download recorded as an `export` event; None when
    there is no such archive."""
    archived = db.session.get(ArchivedReport, archived_id)
    if archived is None:
        return None
    record_event(
        db.session,
        AuditAction.EXPORT,
        "archived_report",
        archived.id,
        changes={
            "format": "pdf",
            "archived": True,
            "report": archived.kind,
            "report_id": archived.report_id,
            "file_sha256": archived.file_sha256,
            "data_sha256": archived.data_sha256,
        },
    )
    return archived


def _run(context: JobContext) -> dict[str, int]:
    period = month_before(context.as_of.date())
    archived = archive_review_pack(
        period,
        generated_by=f"system:{JOB_NAME} (scheduler job run {context.run_id})",
        job_run_id=context.run_id,
    )
    if archived is None:
        return {"archived": 0, "already_archived": 1}
    return {"archived": 1, "pages": archived.pages, "bytes": archived.size_bytes}


ARCHIVE_REVIEW_PACK = register_job(
    JobDefinition(
        name=JOB_NAME,
        title="Archive the monthly review pack",
        description=(
            "Renders the previous calendar month's quality review pack (PDF/A with its data "
            "attached) and keeps it with its SHA-256, listed on the Reports page."
        ),
        default_cron="0 6 1 * *",
        run=_run,
    )
)
