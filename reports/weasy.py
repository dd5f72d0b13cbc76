"""WeasyPrint as the reports use it, and nothing of the app: the reports' HTML class, stylesheets
and URL fetcher, and `write_part`, which lays out one HTML document and writes its PDF.

A long report (the nonconformity register) is rendered in page-sized parts by worker processes
(`reports.rendering`); they import this module only, WeasyPrint and the standard library, so a
worker starts in about a second instead of the three the whole app takes.
"""

from __future__ import annotations

import functools
import gc
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from weasyprint import CSS, HTML, Attachment, URLFetcher

TEMPLATES = Path(__file__).resolve().parent / "templates"
PDF_VARIANT = "pdf/a-3b"


@functools.cache
def _stylesheet() -> CSS:
    return CSS(string=(TEMPLATES / "print.css").read_text(encoding="utf-8"))


@functools.cache
def _user_agent_stylesheet() -> CSS:
    return CSS(string=(TEMPLATES / "report_ua.css").read_text(encoding="utf-8"))


class ReportHTML(HTML):
    """WeasyPrint's HTML with the reports' small user-agent stylesheet (report_ua.css).

    `_ua_stylesheets` is WeasyPrint's own hook for its user-agent stylesheets (70.0, pinned in
    requirements.txt; tests/reports check what the templates need of it: tables, their repeated
    headers, the page boxes). It is private: check it on every WeasyPrint upgrade."""

    def _ua_stylesheets(self, forms: bool = False) -> list[CSS]:
        return [_user_agent_stylesheet()]


def url_fetcher() -> URLFetcher:
    """A fetcher that refuses every URL but `data:` (no local files, no network)."""
    return URLFetcher(allowed_protocols={"data"})


@dataclass(frozen=True)
class DataAttachment:
    """The report's data, attached to the PDF as `name` (AFRelationship /Data)."""

    name: str
    description: str
    data: bytes
    created: datetime  # naive UTC: WeasyPrint writes it with a "Z"


@dataclass(frozen=True)
class PartJob:
    """One HTML document to lay out and write: a whole report, or one part of a long one.

    `css` is a stylesheet added after print.css (a part's literal running header and footer);
    `pdf_variant` and `attachment` are None for a part that is not the first (the first part
    carries the PDF/A catalogue entries, metadata and data attachment of the joined file).

    `pause_gc` turns Python's cyclic garbage collector off while the document is laid out and
    written, for a document of bounded size (a part): WeasyPrint's boxes make many reference
    cycles that the collector would otherwise walk again and again. A 500-row part then lays out
    about 30 % faster and keeps about 30 MiB more until it is done."""

    html: str
    css: str | None = None
    pdf_variant: str | None = PDF_VARIANT
    attachment: DataAttachment | None = None
    pause_gc: bool = False


@dataclass(frozen=True)
class PartResult:
    pdf: bytes
    pages: int
    layout_seconds: float  # CPU seconds: parsing, styling and laying out the pages
    write_seconds: float  # CPU seconds: write_pdf (drawing, fonts, PDF/A when asked)
    peak_mib: float | None  # the high-water mark of the process that rendered it


def peak_mib() -> float | None:
    """This process's peak resident memory (VmHWM) in MiB; None where /proc has none."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def write_part(job: PartJob) -> PartResult:
    """Lay out `job.html` with the reports' stylesheets and write its PDF."""
    paused = job.pause_gc and gc.isenabled()
    if paused:
        gc.disable()
    try:
        return _write(job)
    finally:
        if paused:
            gc.enable()


def _write(job: PartJob) -> PartResult:
    started = time.process_time()
    stylesheets = [_stylesheet()]
    if job.css:
        stylesheets.append(CSS(string=job.css))
    document = ReportHTML(string=job.html, url_fetcher=url_fetcher()).render(
        stylesheets=stylesheets
    )
    laid_out = time.process_time()
    attachments = []
    if job.attachment is not None:
        attached = job.attachment
        attachments.append(
            Attachment(
                string=attached.data,
                name=attached.name,
                description=attached.description,
                created=attached.created,
                modified=attached.created,
                relationship="Data",
            )
        )
    pdf = document.write_pdf(pdf_variant=job.pdf_variant, attachments=attachments)
    return PartResult(
        pdf=pdf,
        pages=len(document.pages),
        layout_seconds=laid_out - started,
        write_seconds=time.process_time() - laid_out,
        peak_mib=peak_mib(),
    )
