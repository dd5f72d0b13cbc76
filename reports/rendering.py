"""Turn a gathered `Report` into PDF/A bytes with Jinja and WeasyPrint.

Every report is archival: PDF/A-3b (WeasyPrint's `pdf/a-3b` variant: XMP metadata with
`pdfaid:part=3`, `pdfaid:conformance=B`, an sRGB output intent, a file identifier) with the
report's data attached as `<report id>.json` (AFRelationship /Data). The attached file is the
canonical JSON whose SHA-256 every page footer prints, so `sha256sum` of the extracted attachment
must equal the footer.

Like Indico's receipts, rendering fetches nothing: the stylesheet is read from this package and the
URL fetcher allows `data:` URLs only, so a template can never make the server read a local file
or call out to the network.

A long report (`Report.parts_of`: the register's rows) is rendered in page-sized parts: its rows
are cut into runs of `RenderSettings.part_rows`, each run is laid out and written by a worker
process (`reports.weasy.write_part`, at most `RenderSettings.workers` at a time), and the parts are
joined into one PDF with pypdf. WeasyPrint's "Page N of M" counts the pages of one document only,
so the parts print no page number: once their pages are counted, a document of M empty pages
carrying only "Page N of M" is laid out (in milliseconds) and each of its pages is drawn over the
joined page N. The first part alone carries what is said once: the title block, the PDF/A-3b
catalogue (XMP metadata, output intent, file identifier, outline) and the data attachment, which
like the hash in every footer is the data of all the rows. The running header and footer of every
part are the same literal strings the single document takes from its title block.
"""

from __future__ import annotations

import functools
import io
import multiprocessing
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from pypdf import PdfReader, PdfWriter

from app.core.charts import scoped_svg
from app.documents.rendering import render_markdown
from reports.base import CHANGE_VALUE_PRINT_LIMIT, Report
from reports.weasy import (
    PDF_VARIANT,
    TEMPLATES,
    DataAttachment,
    PartJob,
    PartResult,
    ReportHTML,
    url_fetcher,
    write_part,
)

__all__ = [
    "PDF_VARIANT",
    "RenderSettings",
    "RenderedReport",
    "ReportHTML",
    "ReportStamp",
    "render_html",
    "render_pdf",
    "url_fetcher",
]

GENERATOR = "Loop QMS"


@dataclass(frozen=True)
class ReportStamp:
    """Facts about one generation of a report (not part of its data)."""

    report_id: str
    generated_at: datetime
    generated_by: str
    organisation: str


@dataclass(frozen=True)
class RenderSettings:
    """How a long report is rendered: `part_rows` rows a part (a report with no more rows is one
    document), laid out by at most `workers` processes at a time (1: one after another in this
    process)."""

    part_rows: int = 500
    workers: int = 2


@dataclass(frozen=True)
class RenderTimings:
    """Where a rendering's time went. Layout and write are CPU seconds summed over the parts
    (in whichever process rendered them); join is this process's CPU seconds numbering and
    joining the parts (0 for one document); wall is the whole rendering's elapsed time."""

    parts: int
    layout_seconds: float
    write_seconds: float
    join_seconds: float
    wall_seconds: float
    worker_peak_mib: float | None = None  # the largest worker's peak; None when none ran


@dataclass(frozen=True)
class RenderedReport:
    pdf: bytes
    pages: int
    timings: RenderTimings | None = field(default=None, compare=False)


@dataclass(frozen=True)
class ReportPart:
    """Which part of the report a template renders: 1 of 1 for a report in one document."""

    number: int = 1
    count: int = 1

    @property
    def first(self) -> bool:
        return self.number == 1

    @property
    def last(self) -> bool:
        return self.number == self.count


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


def render_html(
    report: Report,
    stamp: ReportStamp,
    data_sha256: str,
    part: ReportPart | None = None,
    rows: Sequence[Any] | None = None,
) -> str:
    """The HTML of `report`, or of one `part` of it: `rows` are that part's (by default all the
    rows of `report.parts_of`; None for a report with no such list)."""
    if rows is None and report.parts_of is not None:
        rows = report.data[report.parts_of]
    template = _environment().get_template(report.template)
    return template.render(
        report=report,
        data=report.data,
        part=part or ReportPart(),
        rows=rows,
        charts={
            name: Markup(scoped_svg(svg, f"chart-{name}")) for name, svg in report.charts.items()
        },
        stamp=stamp,
        data_sha256=data_sha256,
        created_w3c=stamp.generated_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        generated_at=stamp.generated_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
        generator=GENERATOR,
    )


def render_pdf(
    report: Report, stamp: ReportStamp, settings: RenderSettings | None = None
) -> RenderedReport:
    """The PDF/A-3b of `report`, its data attached, stamped with `stamp`: one document, or for
    a report with more than `settings.part_rows` rows in `report.parts_of`, parts joined."""
    settings = settings or RenderSettings()
    started = time.perf_counter()
    data_sha256 = report.data_sha256()
    created = stamp.generated_at.replace(tzinfo=None)  # WeasyPrint writes these as UTC ("Z")
    attachment = DataAttachment(
        name=f"{stamp.report_id}.json",
        description=f"Report data (canonical JSON, SHA-256 {data_sha256})",
        data=report.canonical_data(),
        created=created,
    )
    rows = report.data[report.parts_of] if report.parts_of is not None else []
    size = max(2, settings.part_rows - settings.part_rows % 2)  # even: the stripes run on
    if len(rows) <= size:
        html = render_html(report, stamp, data_sha256)
        # A register of up to `size` rows is as bounded as a part: the collector may pause.
        result = write_part(
            PartJob(html=html, attachment=attachment, pause_gc=report.parts_of is not None)
        )
        return RenderedReport(
            pdf=result.pdf,
            pages=result.pages,
            timings=RenderTimings(
                parts=1,
                layout_seconds=result.layout_seconds,
                write_seconds=result.write_seconds,
                join_seconds=0.0,
                wall_seconds=time.perf_counter() - started,
            ),
        )

    count = -(-len(rows) // size)
    running = _running_css(report, stamp, data_sha256)
    jobs = [
        PartJob(
            html=render_html(
                report,
                stamp,
                data_sha256,
                ReportPart(number, count),
                rows[(number - 1) * size : number * size],
            ),
            css=running,
            pdf_variant=PDF_VARIANT if number == 1 else None,
            attachment=attachment if number == 1 else None,
            pause_gc=True,
        )
        for number in range(1, count + 1)
    ]
    results = _write_parts(jobs, settings.workers)
    join_started = time.process_time()
    pdf, pages = _join(report, [result.pdf for result in results])
    join_seconds = time.process_time() - join_started
    peaks = [result.peak_mib for result in results if result.peak_mib is not None]
    return RenderedReport(
        pdf=pdf,
        pages=pages,
        timings=RenderTimings(
            parts=count,
            layout_seconds=sum(result.layout_seconds for result in results),
            write_seconds=sum(result.write_seconds for result in results),
            join_seconds=join_seconds,
            wall_seconds=time.perf_counter() - started,
            worker_peak_mib=max(peaks) if settings.workers > 1 and peaks else None,
        ),
    )


def _css_string(text: str) -> str:
    """`text` as a CSS string literal."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    escaped = "".join(f"\\{ord(c):x} " if ord(c) < 0x20 or c == "\x7f" else c for c in escaped)
    return f'"{escaped}"'


def _running_css(report: Report, stamp: ReportStamp, data_sha256: str) -> str:
    """The running header and footer of a part, as literal strings (a part but the first has no
    title block to take them from), and no page number: the joined file gets those."""
    footer = f"Report {stamp.report_id} · data SHA-256 {data_sha256}"
    return (
        "@page {"
        f" @top-left {{ content: {_css_string(report.title)} }}"
        f" @top-right {{ content: {_css_string(stamp.organisation)} }}"
        f" @bottom-left {{ content: {_css_string(footer)} }}"
        ' @bottom-right { content: "" } }'
    )


# The page numbers of a joined report: print.css's own "Page N of M" box, and empty boxes where
# the others are, so that it sits exactly where it does in a report of one document.
_NUMBERS_CSS = (
    '@page { @top-left { content: "" } @top-right { content: "" } @bottom-left { content: "" } }'
    " .numbered + .numbered { break-before: page }"
)


def _write_parts(jobs: list[PartJob], workers: int) -> list[PartResult]:
    """Lay out and write every part, in order: in `workers` processes, or here if 1."""
    if workers <= 1:
        return [write_part(job) for job in jobs]
    # A fork server (not a fork of this process, whose other threads may hold locks WeasyPrint's
    # libraries need) that has imported `reports.weasy` once; each worker is forked from it.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["reports.weasy"])
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=context) as pool:
        return list(pool.map(write_part, jobs))


def _join(report: Report, parts: list[bytes]) -> tuple[bytes, int]:
    """The parts as one PDF, numbered "Page N of M": the first part's file (its PDF/A catalogue,
    metadata, outline and attachment) with the other parts' pages added after its own."""
    writer = PdfWriter(clone_from=io.BytesIO(parts[0]))
    for part in parts[1:]:
        for page in PdfReader(io.BytesIO(part)).pages:
            writer.add_page(page)
    total = len(writer.pages)
    numbers = PdfReader(io.BytesIO(_page_numbers(report, total)))
    if len(numbers.pages) != total:
        raise RuntimeError(f"laid out {len(numbers.pages)} page numbers for {total} pages")
    for page, number in zip(writer.pages, numbers.pages, strict=True):
        page.merge_page(number)
        page.compress_content_streams()  # merging leaves the page's content uncompressed
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue(), total


def _page_numbers(report: Report, total: int) -> bytes:
    """`total` empty pages of the report's size, each with its "Page N of M"."""
    body = '<div class="numbered"></div>' * total
    html = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"></head>'
        f'<body class="{"landscape" if report.landscape else "portrait"}">{body}</body></html>'
    )
    return write_part(PartJob(html=html, css=_NUMBERS_CSS, pdf_variant=None, pause_gc=True)).pdf
