"""PDF reports benchmark: how long a CAPA report and a 2,000-row nonconformity register take, how
much memory the register needs, and where its time goes: gathering data, WeasyPrint's layout, the
PDF writing (PDF/A for the first part), and the joining of a register rendered in parts.

    python -m tests.benchmarks.bench_reports                 # 2,000 register rows (the target run)
    python -m tests.benchmarks.bench_reports --rows 500      # a quick run
    python -m tests.benchmarks.bench_reports --register-rows 20000   # then a 20,000-row register

On a fresh SQLite database in a temporary folder, migrated with the real migrations and removed at
the end: one complete quality loop (complaint, nonconformity with an 8D analysis, CAPA with
training, a passed check and two signatures; tests/reports/story.py) and N more nonconformities
with process, category and owner. Each report is then generated the way the download does it
(`gather_…` then `reports.generate_report`: render, PDF/A, attachment, export event) in a fresh
interpreter, so its peak memory (VmHWM) is the report's own: the CAPA report --repeat times
(median), the register --register-repeat times (median, highest peak). A register longer than
`--part-rows` is rendered in parts by `--workers` processes (the app's REPORT_PART_ROWS and
REPORT_RENDER_WORKERS); its CPU time is the measuring process's plus that of its children (the
fork server and the workers, stopped and reaped after each run, so every run starts them cold), and
its peak is the largest of the process and the workers. --register-rows then adds nonconformities
up to each size given and generates that register once more. Last, one part of the register is
laid out once and written twice, as plain PDF and as PDF/A-3b with the data attached: what PDF/A
itself costs.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing.forkserver
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from tests.benchmarks.common import (
    Figure,
    env_int,
    environment,
    format_table,
    peak_rss_mib,
    say,
)

TITLE = "PDF reports"
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_ROWS = 2_000
CAPA_TARGET_SECONDS = 1.5
REGISTER_TARGET_SECONDS = 10.0
REGISTER_TARGET_MIB = 500.0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=env_int("BENCH_REPORT_ROWS", DEFAULT_ROWS))
    parser.add_argument("--repeat", type=int, default=env_int("BENCH_REPORT_REPEAT", 5))
    parser.add_argument("--register-repeat", type=int, default=env_int("BENCH_REGISTER_REPEAT", 2))
    parser.add_argument(
        "--register-rows",
        type=int,
        nargs="*",
        default=[],
        help="larger registers to generate once each after the --rows one (e.g. 20000)",
    )
    parser.add_argument("--part-rows", type=int, default=env_int("REPORT_PART_ROWS", 500))
    parser.add_argument("--workers", type=int, default=env_int("REPORT_RENDER_WORKERS", 2))
    parser.add_argument("--tmp-dir", default=None)
    return parser.parse_args(argv)


def _seed(rows: int) -> dict[str, Any]:
    """The quality loop of the report tests and `rows` nonconformities in all (one commit)."""
    from app.extensions import db
    from app.organisation.models import Category, Process
    from tests.reports.story import build_story

    story = build_story()
    db.session.add_all(
        [Process(name=f"Bench process {n}") for n in range(6)]
        + [Category(name=f"Bench category {n}") for n in range(8)]
    )
    db.session.flush()
    _add_nonconformities(story.lead_name, rows - 1, 0)  # the story has one already
    return {"capa": story.capa, "lead": story.lead_name}


def _add_nonconformities(owner_name: str, count: int, first: int) -> None:
    """`count` more nonconformities, numbered from `first`, with process, category and owner."""
    from app.accounts.models import User
    from app.core.db import utcnow
    from app.core.references import next_reference
    from app.extensions import db
    from app.nonconformities.models import Nonconformity, NonconformitySource
    from app.organisation.models import Category, Process

    processes = db.session.query(Process).filter(Process.name.like("Bench process %")).all()
    categories = db.session.query(Category).filter(Category.name.like("Bench category %")).all()
    owner = db.session.query(User).filter_by(full_name=owner_name).one()
    now = utcnow()
    sources = list(NonconformitySource)
    for n in range(first, first + count):
        db.session.add(
            Nonconformity(
                reference=next_reference(db.session, "NC", now.year),
                title=f"Customer was charged twice for a cancelled order, case {n:05d}",
                source=sources[n % len(sources)],
                detected_at=now - timedelta(hours=n),
                process_id=processes[n % len(processes)].id,
                category_id=categories[n % len(categories)].id,
                owner_id=owner.id,
                severity=1 + n % 10,
                occurrence=1 + (n // 10) % 10,
                detection=1 + (n // 100) % 10,
            )
        )
        if n % 500 == 499:
            db.session.flush()
    db.session.commit()


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _stop_fork_server() -> None:
    """Stop the fork server the register's workers came from, and reap it: its CPU time (and its
    reaped workers') then counts in RUSAGE_CHILDREN. (A private method of the standard library,
    made for its tests; a benchmark may use it.)"""
    multiprocessing.forkserver._forkserver._stop()


def _pdfa_cost(report: Any) -> dict[str, float]:
    """One part of the register (its first REPORT_PART_ROWS rows) laid out once and written as
    plain PDF and as PDF/A-3b with the data attached: CPU seconds of each write."""
    import dataclasses
    from datetime import datetime

    from weasyprint import Attachment

    from reports.generate import render_settings
    from reports.rendering import ReportStamp, render_html
    from reports.weasy import PDF_VARIANT, ReportHTML, _stylesheet, url_fetcher

    rows = report.data["rows"][: render_settings().part_rows]
    part = dataclasses.replace(report, data={**report.data, "rows": rows})
    stamp = ReportStamp("RPT-BENCH", datetime(2026, 1, 1), "Benchmark", "Loop QMS")
    html = ReportHTML(
        string=render_html(part, stamp, part.data_sha256()), url_fetcher=url_fetcher()
    )
    started = time.process_time()
    document = html.render(stylesheets=[_stylesheet()])
    laid_out = time.process_time()
    document.write_pdf()
    plain = time.process_time()
    attachment = Attachment(string=part.canonical_data(), name="data.json", relationship="Data")
    document.write_pdf(pdf_variant=PDF_VARIANT, attachments=[attachment])
    pdfa = time.process_time()
    return {
        "rows": len(rows),
        "pages": len(document.pages),
        "layout": laid_out - started,
        "plain": plain - laid_out,
        "pdfa": pdfa - plain,
    }


def _measure_in_this_process() -> None:
    """Child-process entry point: generate one report kind REPEAT times, print figures as JSON."""
    from app import create_app
    from app.capa import services as capa_services
    from app.extensions import db
    from app.nonconformities.services import NonconformityFilters
    from reports import generate_report
    from reports.capa import gather_capa_report
    from reports.nonconformity_register import gather_nonconformity_register

    kind, repeat = os.environ["BENCH_REPORT_KIND"], int(os.environ["BENCH_REPORT_TIMES"])
    app = create_app(
        {
            "DATABASE_URL": os.environ["DATABASE_URL"],
            "REPORT_PART_ROWS": int(os.environ["BENCH_PART_ROWS"]),
            "REPORT_RENDER_WORKERS": int(os.environ["BENCH_WORKERS"]),
        }
    )
    runs = []
    pdfa: dict[str, float] = {}
    with app.app_context():
        db.session.connection()  # connect (and set the pragmas) before measuring
        baseline = peak_rss_mib()
        for _ in range(repeat):
            started, cpu_started = time.perf_counter(), time.process_time()
            children_started = _children_cpu()
            if kind == "capa":
                capa = capa_services.capa_by_reference(os.environ["BENCH_CAPA"])
                report = gather_capa_report(capa)
            else:
                report = gather_nonconformity_register(NonconformityFilters(), [])
            gathered = time.perf_counter()
            generated = generate_report(
                db.session, report, generated_by="Benchmark", organisation="Loop QMS"
            )
            done, cpu_done = time.perf_counter(), time.process_time()
            db.session.commit()  # the export event, as the request would
            _stop_fork_server()
            timings = generated.rendered.timings
            runs.append(
                {
                    "gather": gathered - started,
                    "render": done - gathered,
                    "total": done - started,
                    "cpu": cpu_done - cpu_started,
                    "children_cpu": _children_cpu() - children_started,
                    "layout": timings.layout_seconds,
                    "write": timings.write_seconds,
                    "join": timings.join_seconds,
                    "parts": timings.parts,
                    "worker_peak_mib": timings.worker_peak_mib,
                    "pages": generated.pages,
                    "bytes": len(generated.pdf),
                    "rows": len(report.data.get("rows", [])),
                }
            )
            db.session.expunge_all()
        peak = peak_rss_mib()  # before the PDF/A measure, which is not the report's
        if kind == "register" and os.environ.get("BENCH_PDFA") == "1":
            pdfa = _pdfa_cost(report)
    print(json.dumps({"runs": runs, "baseline_mib": baseline, "peak_mib": peak, "pdfa": pdfa}))


def _measure(
    kind: str,
    times: int,
    database_url: str,
    tmp: Path,
    capa: str,
    args: argparse.Namespace,
    pdfa: bool = False,
) -> dict[str, Any]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        LOOP_ENV="testing",
        LOOP_INSTANCE_DIR=str(tmp),
        LOOP_SCHEDULER="off",
        BENCH_REPORT_KIND=kind,
        BENCH_REPORT_TIMES=str(times),
        BENCH_CAPA=capa,
        BENCH_PART_ROWS=str(args.part_rows),
        BENCH_WORKERS=str(args.workers),
        BENCH_PDFA="1" if pdfa else "0",
    )
    code = "from tests.benchmarks.bench_reports import _measure_in_this_process as m; m()"
    completed = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        raise SystemExit(f"measuring the {kind} report failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def run(argv: list[str] | None = None) -> list[Figure]:
    args = parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="loop-bench-reports-", dir=args.tmp_dir))
    try:
        return _run(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _run(args: argparse.Namespace, tmp: Path) -> list[Figure]:
    database_url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    with environment({"LOOP_ENV": "testing", "LOOP_INSTANCE_DIR": str(tmp)}):
        from app import create_app
        from app.extensions import db

        app = create_app({"DATABASE_URL": database_url})
        migrated = app.test_cli_runner().invoke(args=["db", "upgrade"])
        if migrated.exit_code != 0:
            raise SystemExit(f"db upgrade failed: {migrated.output}")
        say(f"  seeding one quality loop and {args.rows:,} nonconformities…")
        with app.app_context():
            seeded = _seed(args.rows)
            db.engine().dispose()

    say(f"  CAPA report ×{args.repeat} in a fresh process…")
    capa = _measure("capa", args.repeat, database_url, tmp, seeded["capa"], args)
    say(f"  register ×{args.register_repeat} in a fresh process…")
    register = _measure(
        "register", args.register_repeat, database_url, tmp, seeded["capa"], args, pdfa=True
    )
    figures = _figures(args.rows, capa, register)
    have = args.rows
    for rows in sorted(size for size in args.register_rows if size > args.rows):
        say(f"  adding {rows - have:,} nonconformities, then the register of {rows:,} once…")
        with (
            environment({"LOOP_ENV": "testing", "LOOP_INSTANCE_DIR": str(tmp)}),
            app.app_context(),
        ):
            _add_nonconformities(seeded["lead"], rows - have, have)
            db.engine().dispose()
        have = rows
        larger = _measure("register", 1, database_url, tmp, seeded["capa"], args)
        figures += _register_figures(rows, larger, f"register of {rows:,} rows", targets=False)
    return figures


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def _figures(rows: int, capa: dict[str, Any], register: dict[str, Any]) -> list[Figure]:
    capa_total = _median(capa["runs"], "total")

    def share(measured: dict[str, Any], part: str) -> float:
        return 100 * _median(measured["runs"], part) / _median(measured["runs"], "total")

    figures = [
        Figure(
            "CAPA report: total (median)",
            capa_total,
            "s",
            _aim(capa_total, CAPA_TARGET_SECONDS, "s"),
        ),
        Figure(
            "CAPA report: CPU time of the process (median)",
            _median(capa["runs"], "cpu"),
            "s",
            "CPU seconds used; the wall time adds any wait for a shared CPU",
        ),
        Figure("CAPA report: gathering data", _median(capa["runs"], "gather"), "s"),
        Figure(
            "CAPA report: rendering (PDF/A, export event)", _median(capa["runs"], "render"), "s"
        ),
        Figure("CAPA report: share gathering", share(capa, "gather"), "%"),
        Figure("CAPA report: pages", capa["runs"][0]["pages"], "pages"),
    ]
    figures += _register_figures(rows, register, "register")
    pdfa = register.get("pdfa")
    if pdfa:
        part = f"one part ({pdfa['rows']:,} rows, {pdfa['pages']} pages)"
        figures += [
            Figure(f"PDF/A: {part}, layout", pdfa["layout"], "s", "CPU seconds"),
            Figure(f"PDF/A: {part}, write_pdf plain", pdfa["plain"], "s", "CPU seconds"),
            Figure(
                f"PDF/A: {part}, write_pdf PDF/A-3b + data",
                pdfa["pdfa"],
                "s",
                f"CPU seconds; PDF/A itself: {pdfa['pdfa'] - pdfa['plain']:+.2f} s",
            ),
        ]
    return figures


def _aim(value: float, target: float, unit: str) -> str:
    verdict = "met" if value <= target else "MISSED"
    return f"aim < {target:g} {unit}: {verdict}"


def _register_figures(
    rows: int, register: dict[str, Any], label: str, targets: bool = True
) -> list[Figure]:
    runs = register["runs"]
    if runs[0]["rows"] != rows:
        raise SystemExit(f"the register has {runs[0]['rows']} rows, expected {rows}")
    total = _median(runs, "total")
    worker_peaks = [run["worker_peak_mib"] for run in runs if run["worker_peak_mib"] is not None]
    peak = max([register["peak_mib"], *worker_peaks])
    process = f"the process {register['peak_mib']:,.0f} MiB"
    if worker_peaks:
        process += f", the largest worker {max(worker_peaks):,.0f} MiB"
    return [
        Figure(
            f"{label} of {rows:,} rows: total (median)" if label == "register" else label,
            total,
            "s",
            _aim(total, REGISTER_TARGET_SECONDS, "s") if targets else "wall time",
        ),
        Figure(
            f"{label}: CPU time of the process and its workers (median)",
            _median(runs, "cpu") + _median(runs, "children_cpu"),
            "s",
            f"the process {_median(runs, 'cpu'):.2f} s, its children "
            f"{_median(runs, 'children_cpu'):.2f} s (fork server, workers)",
        ),
        Figure(f"{label}: gathering data", _median(runs, "gather"), "s"),
        Figure(f"{label}: rendering (PDF/A, export event)", _median(runs, "render"), "s"),
        Figure(
            f"{label}: layout, CPU summed over the parts",
            _median(runs, "layout"),
            "s",
            f"{runs[0]['parts']} part(s)",
        ),
        Figure(
            f"{label}: write_pdf (PDF/A on the first part), CPU summed",
            _median(runs, "write"),
            "s",
        ),
        Figure(f"{label}: joining and numbering the parts, CPU", _median(runs, "join"), "s"),
        Figure(f"{label}: pages", runs[0]["pages"], "pages"),
        Figure(f"{label}: PDF size", runs[0]["bytes"] / 2**20, "MiB"),
        Figure(
            f"{label}: peak memory of the largest process",
            peak,
            "MiB",
            (_aim(peak, REGISTER_TARGET_MIB, "MiB") + "; " if targets else "")
            + f"{process} (the app alone: {register['baseline_mib']:,.0f} MiB)",
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    figures = run(argv)
    say(f"\n{TITLE}\n{format_table(figures)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
