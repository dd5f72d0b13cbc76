"""Turn a gathered `Report` into PDF/A bytes with Jinja and WeasyPrint.

Every report is archival: PDF/A-3b (WeasyPrint's `pdf/a-3b` variant: XMP metadata with
`pdfaid:part=3`, `pdfaid:conformance=B`, an sRGB output intent, a file identifier) with the
report's data attached as `<report id>.json` (AFRelationship /Data). The attached file is the
canonical JSON whose SHA-256 every page footer prints, so `sha256sum` of the extracted attachment
must equal the footer.

Like Indico's receipts, rendering fetches nothing: the stylesheet is read from this package and the
URL fetcher allows `data:` URLs only, so a template can never make the server read a local file
or call out to the network.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from weasyprint import CSS, HTML, Attachment, URLFetcher

from app.core.charts import scoped_svg
from app.documents.rendering import render_markdown
from reports.base import CHANGE_VALUE_PRINT_LIMIT, Report

TEMPLATES = Path(__file__).resolve().parent / "templates"
PDF_VARIANT = "pdf/a-3b"
GENERATOR = "Loop QMS"


@dataclass(frozen=True)
class ReportStamp:
    """Facts about one generation of a report (not part of its data)."""

    report_id: str
    generated_at: datetime
    generated_by: str
    organisation: str


@dataclass(frozen=True)
class RenderedReport:
    pdf: bytes
    pages: int


def _short(value: Any, limit: int = CHANGE_VALUE_PRINT_LIMIT) -> str:
    if value is None:
        return "—"
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _or_dash(value: Any) -> Any:
    return "—" if value is None or value == "" else value


@functools.cache
def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["short"] = _short
    environment.filters["dash"] = _or_dash
    # Document text (Markdown), rendered and sanitised as the pages render it.
    environment.filters["markdown"] = render_markdown
    return environment


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


def render_html(report: Report, stamp: ReportStamp, data_sha256: str) -> str:
    template = _environment().get_template(report.template)
    return template.render(
        report=report,
        data=report.data,
        charts={
            name: Markup(scoped_svg(svg, f"chart-{name}")) for name, svg in report.charts.items()
        },
        stamp=stamp,
        data_sha256=data_sha256,
        created_w3c=stamp.generated_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        generated_at=stamp.generated_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
        generator=GENERATOR,
    )


def render_pdf(report: Report, stamp: ReportStamp) -> RenderedReport:
    """The PDF/A-3b of `report`, its data attached, stamped with `stamp`."""
    canonical = report.canonical_data()
    data_sha256 = report.data_sha256()
    html = ReportHTML(string=render_html(report, stamp, data_sha256), url_fetcher=url_fetcher())
    document = html.render(stylesheets=[_stylesheet()])
    created = stamp.generated_at.replace(tzinfo=None)  # WeasyPrint writes these as UTC ("Z")
    attachment = Attachment(
        string=canonical,
        name=f"{stamp.report_id}.json",
        description=f"Report data (canonical JSON, SHA-256 {data_sha256})",
        created=created,
        modified=created,
        relationship="Data",
    )
    pdf = document.write_pdf(pdf_variant=PDF_VARIANT, attachments=[attachment])
    return RenderedReport(pdf=pdf, pages=len(document.pages))
