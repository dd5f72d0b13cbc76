"""Generate a gathered report: stamp it, render it, and write the `export` audit event."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from flask import current_app, has_app_context
from sqlalchemy.orm import Session

from app.core.audit import AuditAction, record_event
from app.core.db import renew_read_snapshot, utcnow
from reports.base import Report

if TYPE_CHECKING:
    from reports.rendering import RenderedReport, RenderSettings

# `reports.rendering` (WeasyPrint, pypdf, the chart module) is imported on the first report, not
# with the app: every process that never renders one (the CLI, each test subprocess, a web worker
# until its first PDF) starts about a second sooner.


@dataclass(frozen=True)
class GeneratedReport:
    report_id: str
    filename: str
    pdf: bytes
    pages: int
    data_sha256: str
    generated_at: datetime
    rendered: RenderedReport | None = None  # how it was rendered (timings), for benchmarks


def render_settings() -> RenderSettings:
    """The app's `REPORT_PART_ROWS` and `REPORT_RENDER_WORKERS`; the defaults outside an app."""
    from reports.rendering import RenderSettings

    if not has_app_context():
        return RenderSettings()
    config = current_app.config
    defaults = RenderSettings()
    return RenderSettings(
        part_rows=int(config.get("REPORT_PART_ROWS", defaults.part_rows)),
        workers=int(config.get("REPORT_RENDER_WORKERS", defaults.workers)),
    )


def new_report_id(now: datetime) -> str:
    """`RPT-20261124-133005-7F3A9C`: the generation time (UTC) and 24 random bits."""
    return f"RPT-{now:%Y%m%d-%H%M%S}-{secrets.token_hex(3).upper()}"


def generate_report(
    session: Session,
    report: Report,
    *,
    generated_by: str,
    organisation: str,
    now: datetime | None = None,
) -> GeneratedReport:
    """Render `report` as PDF/A with its data attached, and record the export in the audit trail
    (in the session's transaction: the caller commits). `generated_by` is printed as "Generated
    by" and is the PDF's author; the audit event's actor is the current audit context's."""
    from reports.rendering import PDF_VARIANT, ReportStamp, render_pdf

    generated_at = (now or utcnow()).replace(microsecond=0)
    stamp = ReportStamp(
        report_id=new_report_id(generated_at),
        generated_at=generated_at,
        generated_by=generated_by,
        organisation=organisation,
    )
    rendered = render_pdf(report, stamp, render_settings())
    data_sha256 = report.data_sha256()
    renew_read_snapshot(session)  # a GET's long read, then a short write
    record_event(
        session,
        AuditAction.EXPORT,
        report.record_type,
        report.record_id,
        changes={
            "format": "pdf",
            "pdf_variant": PDF_VARIANT,
            "report": report.kind,
            "report_id": stamp.report_id,
            "title": report.title,
            "filters": {name: value for name, value in report.filters} or "none",
            "pages": rendered.pages,
            "data_sha256": data_sha256,
        },
    )
    return GeneratedReport(
        report_id=stamp.report_id,
        filename=f"{report.filename_stem}-{stamp.report_id}.pdf",
        pdf=rendered.pdf,
        pages=rendered.pages,
        data_sha256=data_sha256,
        generated_at=generated_at,
        rendered=rendered,
    )
